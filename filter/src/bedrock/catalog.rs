//! The model catalog: the families and models Bedrock serves and what each accepts, as data.
//! Every per-model rule of the filter reads a [`Caps`] from here ([`lookup`], or a configured
//! alias's overrides through `Config::caps_for`); no other module matches on model ids (a test
//! scans the sources for model-family names outside this file).
//!
//! Matching: the id is lower-cased; an ARN is cut to its last path segment; a geographic or
//! `global.` inference-profile prefix, a `:N` / `-vN` version suffix and a `-YYYYMMDD` date are
//! removed; a bare `claude-…` name is read as `anthropic.claude-…`. The result is looked up
//! exactly in [`MODELS`]; a Claude id not listed takes the newest listed Claude model not newer
//! than its version (no readable version: the default below); other ids take their family's entry in [`FAMILIES`] (longest prefix); anything else
//! gets [`UNKNOWN`], the conservative default: add nothing the client did not ask for, forward
//! what it did ask for as it is, and let Bedrock answer.
//!
//! Sources (each also cited where its rule is applied):
//! - [AWS-ADAPT] Bedrock user guide, "Adaptive thinking"
//!   (docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html).
//! - [AWS-CARDS] Bedrock model cards (…/userguide/model-card-anthropic-claude-opus-4-7.md,
//!   …-fable-5.md): max output, sampling, reasoning.
//! - [CL-EFFORT] platform.claude.com/docs/en/build-with-claude/effort: levels per model.
//! - [CL-O5] platform.claude.com/docs/en/models/opus-5/migration-guide: thinking on by
//!   default, disabled only at effort high or below.
//! - [CL-46] Claude 4.6 migration guide: assistant prefill is a 400 from 4.6 on
//!   (strands-agents/sdk-python#1694 on Bedrock).
//! - [SAMPLING] Opus 4.7 and later refuse sampling parameters ("`temperature` is deprecated for
//!   this model", Comfy-Org/ComfyUI#13923; Fable 5 card: temperature 1 or unset, top_p >= 0.99,
//!   no top_k); Sonnet/Haiku 4.5: temperature or top_p, not both (Bedrock Anthropic parameters).
//! - [DISPLAY] thinking display defaults: omitted from Opus 4.7 on, summarized before
//!   (anthropics/claude-code#49268, BerriAI/litellm#25965, modelparams.dev thinking-display).
//! - [BETA] Opus 4.7 on Bedrock: "invalid beta flag" for interleaved-thinking and others
//!   (anthropics/claude-code#49490, #49648; earendil-works/pi#3290).
//! - [CACHE] Bedrock user guide, "Prompt caching" (prompt-caching.html), supported models.
//! - [SO] Bedrock user guide, "Get validated JSON results from models" (structured-output.html).
//! - Other families: see [`FAMILIES`].

/// A model family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Claude,
    GptOss,
    DeepSeek,
    Kimi,
    Qwen,
    Glm,
    Nova,
    Llama,
    Mistral,
    Cohere,
    Other,
}

impl Family {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Family::Claude => "Claude",
            Family::GptOss => "gpt-oss",
            Family::DeepSeek => "DeepSeek",
            Family::Kimi => "Kimi",
            Family::Qwen => "Qwen",
            Family::Glm => "GLM",
            Family::Nova => "Nova",
            Family::Llama => "Llama",
            Family::Mistral => "Mistral",
            Family::Cohere => "Cohere",
            Family::Other => "other",
        }
    }
}

/// How reasoning is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reasoning {
    /// No reasoning.
    None,
    /// Claude extended thinking, `{"type": "enabled", "budget_tokens": N}` only.
    Budget,
    /// Claude adaptive thinking with `output_config.effort`; `enabled` + budget still accepted
    /// (deprecated) [AWS-ADAPT].
    Adaptive,
    /// Claude adaptive thinking only: `enabled` is a 400 [AWS-ADAPT].
    AdaptiveOnly,
    /// `additionalModelRequestFields.reasoning_effort` (gpt-oss; DeepSeek V3.x).
    EffortField,
    /// `additionalModelRequestFields.reasoningConfig` (Nova 2).
    NovaConfig,
    /// Reasons on its own; no request field is documented (nothing is sent).
    Implicit,
}

impl Reasoning {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reasoning::None => "none",
            Reasoning::Budget => "budget",
            Reasoning::Adaptive => "adaptive",
            Reasoning::AdaptiveOnly => "adaptive_only",
            Reasoning::EffortField => "effort_field",
            Reasoning::NovaConfig => "nova_config",
            Reasoning::Implicit => "implicit",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Reasoning> {
        [
            Reasoning::None,
            Reasoning::Budget,
            Reasoning::Adaptive,
            Reasoning::AdaptiveOnly,
            Reasoning::EffortField,
            Reasoning::NovaConfig,
            Reasoning::Implicit,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Claude's `thinking` object is the request field.
    pub(crate) fn is_claude_thinking(self) -> bool {
        matches!(self, Reasoning::Budget | Reasoning::Adaptive | Reasoning::AdaptiveOnly)
    }
}

/// Whether thinking can be turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disable {
    /// Yes (or it is off unless asked for).
    Yes,
    /// Only at effort `high` or below (Opus 5 [CL-O5]).
    UpToHigh,
    /// Never: `{"type": "disabled"}` is a 400 and the model thinks on every request.
    No,
}

/// An effort level (`output_config.effort`, or a family's own field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Low,
    Medium,
    High,
    XHigh,
    Max,
}

impl Level {
    pub(crate) const ALL: [Level; 5] = [Level::Low, Level::Medium, Level::High, Level::XHigh, Level::Max];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::XHigh => "xhigh",
            Level::Max => "max",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of effort levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Levels(u8);

impl Levels {
    pub(crate) const NONE: Levels = Levels(0);
    /// high only.
    pub(crate) const HIGH: Levels = Levels(Level::High.bit());
    /// low, medium, high.
    pub(crate) const LMH: Levels = Levels(Level::Low.bit() | Level::Medium.bit() | Level::High.bit());
    /// low … high and max (Opus 4.6, Sonnet 4.6).
    pub(crate) const LMH_MAX: Levels = Levels(Levels::LMH.0 | Level::Max.bit());
    /// Every level (Opus 4.7 and later).
    pub(crate) const ALL: Levels = Levels(Levels::LMH_MAX.0 | Level::XHigh.bit());

    pub(crate) fn contains(self, l: Level) -> bool {
        self.0 & l.bit() != 0
    }

    pub(crate) fn of(levels: &[Level]) -> Levels {
        Levels(levels.iter().fold(0, |a, l| a | l.bit()))
    }

    pub(crate) fn iter(self) -> impl Iterator<Item = Level> {
        Level::ALL.into_iter().filter(move |l| self.contains(*l))
    }

    /// `want` if accepted, else the nearest accepted level below it, else the lowest accepted.
    pub(crate) fn nearest(self, want: Level) -> Option<Level> {
        let below = self.iter().filter(|l| *l <= want).last();
        below.or_else(|| self.iter().next())
    }
}

/// How thinking text comes back (Claude's `thinking.display`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Display {
    Summarized,
    Omitted,
}

impl Display {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Display::Summarized => "summarized",
            Display::Omitted => "omitted",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Display> {
        match s {
            "summarized" => Some(Display::Summarized),
            "omitted" => Some(Display::Omitted),
            _ => None,
        }
    }
}

/// Sampling parameters the model accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sampling {
    Free,
    /// `temperature` or `top_p`, not both (Claude 4.5, 4.6) [SAMPLING].
    NotBoth,
    /// Only their defaults: `temperature` 1, `top_p` 0.99 or more, no `top_k` (Opus 4.7 and
    /// later) [SAMPLING].
    Fixed,
}

/// Where `top_k` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopK {
    /// Not accepted.
    None,
    /// `additionalModelRequestFields.top_k` (Claude, Mistral).
    Standard,
    /// `additionalModelRequestFields.k` (Cohere Command).
    CohereK,
    /// `additionalModelRequestFields.inferenceConfig.topK` (Nova).
    NovaInference,
}

/// Which parts of a request a model can cache (`cachePoint`) [CACHE].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caching {
    /// No prompt caching: every cache point is left out.
    None,
    /// System and messages, not tool definitions (Amazon Nova).
    NoTools,
    /// System, messages and tools.
    Full,
}

/// What a model accepts. One value per model (or family); see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    pub family: Family,
    pub reasoning: Reasoning,
    /// Thinks on requests that do not mention thinking.
    pub thinks_by_default: bool,
    pub disable: Disable,
    /// `output_config.effort` levels (Claude) or the family field's levels; empty: no effort.
    pub efforts: Levels,
    /// The thinking display when the request names none; `None`: no `display` parameter.
    pub display: Option<Display>,
    /// The smallest thinking budget (Claude `budget_tokens`).
    pub min_budget: u32,
    /// Largest `maxTokens`; 0 when unknown.
    pub max_output: u32,
    pub sampling: Sampling,
    pub top_k: TopK,
    pub caching: Caching,
    /// The 1-hour cache TTL besides the 5-minute default.
    pub cache_ttl_1h: bool,
    /// `toolSpec.strict` [SO].
    pub strict_tools: bool,
    /// Converse `outputConfig.textFormat` JSON schema [SO].
    pub native_structured_output: bool,
    /// A final assistant turn (prefill) is accepted [CL-46].
    pub prefill: bool,
    pub documents: bool,
    pub citations: bool,
    /// Images are accepted (forwarded as they are unless the catalog knows the model is text only).
    pub images: bool,
    /// `anthropic_beta` flags accepted.
    pub betas: &'static [&'static str],
}

/// Every `anthropic-beta` flag Bedrock documents for Claude up to the 4.5 generation.
const BETAS_LEGACY: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
];

/// Claude 4.6: adaptive thinking interleaves by itself [AWS-ADAPT], so the interleaved-thinking
/// flag is not sent.
const BETAS_46: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
];

/// Conservative: no flag known to be accepted from Opus 4.7 on ("invalid beta flag" for the
/// flags Claude Code sends [BETA]; 1M context is the default there).
const BETAS_NONE: &[&str] = &[];

/// Claude 3.x / 4.0 / 4.1 with extended thinking.
const CLAUDE_4: Caps = Caps {
    family: Family::Claude,
    reasoning: Reasoning::Budget,
    thinks_by_default: false,
    disable: Disable::Yes,
    efforts: Levels::NONE,
    display: None,
    min_budget: 1024,
    max_output: 32_000,
    sampling: Sampling::Free,
    top_k: TopK::Standard,
    caching: Caching::Full,
    cache_ttl_1h: false,
    strict_tools: false,
    native_structured_output: false,
    prefill: true,
    documents: true,
    citations: true,
    images: true,
    betas: BETAS_LEGACY,
};

/// Claude without extended thinking (3, 3.5).
const CLAUDE_3: Caps = Caps {
    reasoning: Reasoning::None,
    max_output: 8_192,
    caching: Caching::None,
    ..CLAUDE_4
};

/// Sonnet 4.5, Haiku 4.5, Opus 4.5: budget thinking, 64K output, temperature or top_p,
/// structured output. (Opus 4.5 takes `output_config.effort` on Anthropic's API; not sent here:
/// conservative, Bedrock's pages document effort from 4.6 on.)
const CLAUDE_45: Caps = Caps {
    max_output: 64_000,
    sampling: Sampling::NotBoth,
    cache_ttl_1h: true,
    strict_tools: true,
    native_structured_output: true,
    ..CLAUDE_4
};

/// Opus 4.6, Sonnet 4.6: adaptive (budget deprecated), effort low…max, display summarized by
/// default, 128K output, no prefill.
const CLAUDE_46: Caps = Caps {
    reasoning: Reasoning::Adaptive,
    efforts: Levels::LMH_MAX,
    display: Some(Display::Summarized),
    max_output: 128_000,
    prefill: false,
    betas: BETAS_46,
    ..CLAUDE_45
};

/// Opus 4.7, Opus 4.8, Sonnet 5: adaptive only, off unless asked for, display omitted by
/// default, every effort level, sampling parameters fixed.
const CLAUDE_47: Caps = Caps {
    reasoning: Reasoning::AdaptiveOnly,
    efforts: Levels::ALL,
    display: Some(Display::Omitted),
    sampling: Sampling::Fixed,
    top_k: TopK::None,
    betas: BETAS_NONE,
    ..CLAUDE_46
};

/// Opus 5: thinks by default; disabled only at effort high or below [CL-O5].
const CLAUDE_OPUS_5: Caps = Caps {
    thinks_by_default: true,
    disable: Disable::UpToHigh,
    ..CLAUDE_47
};

/// Mythos 5, Fable 5, Mythos Preview: adaptive thinking always on, cannot be disabled
/// [AWS-ADAPT, AWS-CARDS].
const CLAUDE_ALWAYS: Caps = Caps {
    thinks_by_default: true,
    disable: Disable::No,
    ..CLAUDE_47
};

/// Families without reasoning and without the Claude-only features.
const PLAIN: Caps = Caps {
    family: Family::Other,
    reasoning: Reasoning::None,
    thinks_by_default: false,
    disable: Disable::Yes,
    efforts: Levels::NONE,
    display: None,
    min_budget: 0,
    max_output: 0,
    sampling: Sampling::Free,
    top_k: TopK::None,
    caching: Caching::None,
    cache_ttl_1h: false,
    strict_tools: false,
    native_structured_output: false,
    prefill: true,
    documents: true,
    citations: false,
    images: true,
    betas: BETAS_NONE,
};

/// The default for an id the catalog does not know (an application inference profile ARN
/// without `base_model`, a new family): no reasoning field is invented; the client's own cache
/// points, prefill, documents and images are forwarded as they are (Bedrock answers if the
/// model cannot take them); nothing optional (strict tools, native structured output, betas) is
/// sent.
pub(crate) const UNKNOWN: Caps = Caps {
    caching: Caching::Full,
    ..PLAIN
};

/// An exact model (normalized id, display name, capabilities).
pub(crate) struct Entry {
    pub key: &'static str,
    /// The README model table's first column (the table is generated and checked by a test).
    #[cfg_attr(not(test), allow(dead_code))]
    pub name: &'static str,
    pub caps: Caps,
}

/// Claude 4 with Sonnet's 64K output limit.
const CLAUDE_4_64K: Caps = Caps {
    max_output: 64_000,
    ..CLAUDE_4
};

const fn e(key: &'static str, name: &'static str, caps: Caps) -> Entry {
    Entry { key, name, caps }
}

/// Claude models Bedrock serves ([AWS-ADAPT] for the reasoning style of each).
pub(crate) const MODELS: &[Entry] = &[
    e("anthropic.claude-3-haiku", "Claude 3 Haiku", CLAUDE_3),
    e("anthropic.claude-3-sonnet", "Claude 3 Sonnet", CLAUDE_3),
    e("anthropic.claude-3-opus", "Claude 3 Opus", CLAUDE_3),
    e("anthropic.claude-3-5-sonnet", "Claude 3.5 Sonnet", CLAUDE_3),
    e(
        "anthropic.claude-3-5-haiku",
        "Claude 3.5 Haiku",
        Caps {
            caching: Caching::Full,
            ..CLAUDE_3
        },
    ),
    e("anthropic.claude-3-7-sonnet", "Claude 3.7 Sonnet", CLAUDE_4_64K),
    e("anthropic.claude-sonnet-4", "Claude Sonnet 4", CLAUDE_4_64K),
    e("anthropic.claude-opus-4", "Claude Opus 4", CLAUDE_4),
    e("anthropic.claude-opus-4-1", "Claude Opus 4.1", CLAUDE_4),
    e("anthropic.claude-sonnet-4-5", "Claude Sonnet 4.5", CLAUDE_45),
    e("anthropic.claude-haiku-4-5", "Claude Haiku 4.5", CLAUDE_45),
    e("anthropic.claude-opus-4-5", "Claude Opus 4.5", CLAUDE_45),
    e("anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6", CLAUDE_46),
    e("anthropic.claude-opus-4-6", "Claude Opus 4.6", CLAUDE_46),
    e("anthropic.claude-opus-4-7", "Claude Opus 4.7", CLAUDE_47),
    e("anthropic.claude-opus-4-8", "Claude Opus 4.8", CLAUDE_47),
    e("anthropic.claude-sonnet-5", "Claude Sonnet 5", CLAUDE_47),
    e("anthropic.claude-opus-5", "Claude Opus 5", CLAUDE_OPUS_5),
    e(
        "anthropic.claude-mythos-preview",
        "Claude Mythos Preview",
        Caps {
            efforts: Levels::LMH_MAX,
            ..CLAUDE_ALWAYS
        },
    ),
    e("anthropic.claude-mythos-5", "Claude Mythos 5", CLAUDE_ALWAYS),
    e("anthropic.claude-fable-5", "Claude Fable 5", CLAUDE_ALWAYS),
];

/// Non-Claude families, matched by id prefix (the longest wins).
///
/// - gpt-oss: `reasoning_effort` low/medium/high; always reasons; reasoning returned as
///   `reasoningContent` without signature (recorded: pydantic-ai cassette
///   test_bedrock_thinking_high_openai_variant, 200).
/// - DeepSeek R1: reasoning always on, not configurable (Bedrock user guide,
///   kb-test-configure-reasoning.html).
/// - DeepSeek V3.1 / V3.2: thinking off by default, on with `reasoning_effort: "high"`
///   (langchain-ai/langchain-aws PR#1261, tested against Converse). Only `high` is verified, so
///   every effort becomes `high`.
/// - Kimi K2 Thinking: reasons on every request (recorded: test_bedrock_moonshotai_tool_call);
///   no control field documented.
/// - Qwen3: reasons by default (recorded: test_bedrock_thinking_high_qwen_variant); Bedrock
///   documents no control field, so none is sent (that recording's `reasoning_config` was
///   accepted, not shown to do anything).
/// - GLM: no Bedrock source for a reasoning field: nothing is sent; reasoning that comes back
///   is streamed as reasoning.
/// - Nova 2: `reasoningConfig {type: enabled, maxReasoningEffort}`, off by default.
pub(crate) const FAMILIES: &[Entry] = &[
    e(
        "openai.gpt-oss",
        "gpt-oss",
        Caps {
            family: Family::GptOss,
            reasoning: Reasoning::EffortField,
            thinks_by_default: true,
            disable: Disable::No,
            efforts: Levels::LMH,
            max_output: 128_000,
            ..PLAIN
        },
    ),
    e(
        "deepseek.r1",
        "DeepSeek R1",
        Caps {
            family: Family::DeepSeek,
            reasoning: Reasoning::Implicit,
            thinks_by_default: true,
            disable: Disable::No,
            max_output: 32_768,
            ..PLAIN
        },
    ),
    e(
        "deepseek.v3",
        "DeepSeek V3.x",
        Caps {
            family: Family::DeepSeek,
            reasoning: Reasoning::EffortField,
            efforts: Levels::HIGH,
            max_output: 8_192,
            ..PLAIN
        },
    ),
    e(
        "moonshot.kimi-k2-thinking",
        "Kimi K2 Thinking",
        Caps {
            family: Family::Kimi,
            reasoning: Reasoning::Implicit,
            thinks_by_default: true,
            disable: Disable::No,
            ..PLAIN
        },
    ),
    e(
        "moonshot.kimi",
        "Kimi K2",
        Caps {
            family: Family::Kimi,
            ..PLAIN
        },
    ),
    e(
        "qwen.qwen3",
        "Qwen3",
        Caps {
            family: Family::Qwen,
            reasoning: Reasoning::Implicit,
            thinks_by_default: true,
            disable: Disable::No,
            ..PLAIN
        },
    ),
    e(
        "zai.glm",
        "GLM",
        Caps {
            family: Family::Glm,
            reasoning: Reasoning::Implicit,
            ..PLAIN
        },
    ),
    e(
        "amazon.nova-2",
        "Nova 2",
        Caps {
            family: Family::Nova,
            reasoning: Reasoning::NovaConfig,
            efforts: Levels::LMH,
            top_k: TopK::NovaInference,
            caching: Caching::NoTools,
            ..PLAIN
        },
    ),
    e(
        "amazon.nova-micro",
        "Nova Micro",
        Caps {
            images: false,
            ..NOVA_1
        },
    ),
    e("amazon.nova-lite", "Nova Lite", NOVA_1),
    e("amazon.nova-pro", "Nova Pro", NOVA_1),
    e("amazon.nova-premier", "Nova Premier", NOVA_1),
    e(
        "meta.llama",
        "Llama",
        Caps {
            family: Family::Llama,
            ..PLAIN
        },
    ),
    e(
        "mistral.",
        "Mistral",
        Caps {
            family: Family::Mistral,
            top_k: TopK::Standard,
            ..PLAIN
        },
    ),
    e(
        "cohere.command",
        "Cohere Command",
        Caps {
            family: Family::Cohere,
            top_k: TopK::CohereK,
            ..PLAIN
        },
    ),
];

const NOVA_1: Caps = Caps {
    family: Family::Nova,
    top_k: TopK::NovaInference,
    caching: Caching::NoTools,
    ..PLAIN
};

/// Embedding model families served by the embeddings front door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingFamily {
    TitanV1,
    TitanV2,
    CohereV3,
    CohereV4,
}

/// Embedding models by normalized-id prefix.
const EMBEDDINGS: &[(&str, EmbeddingFamily)] = &[
    ("amazon.titan-embed-text-v2", EmbeddingFamily::TitanV2),
    ("amazon.titan-embed-text-v1", EmbeddingFamily::TitanV1),
    ("amazon.titan-embed-g1-text", EmbeddingFamily::TitanV1),
    ("cohere.embed-v4", EmbeddingFamily::CohereV4),
    ("cohere.embed-english-v3", EmbeddingFamily::CohereV3),
    ("cohere.embed-multilingual-v3", EmbeddingFamily::CohereV3),
];

/// Whether Bedrock Mantle serves `model_id`'s OpenAI APIs under `/openai/v1` rather than `/v1`:
/// OpenAI's GPT models other than gpt-oss (GPT-5.x, Responses only)
/// (<https://theagenticguy.github.io/ai-gateway/adrs/015-openai-responses-bedrock-mantle-proxy/>,
/// <https://docs.getbifrost.ai/providers/supported-providers/bedrock-mantle>).
pub(crate) fn mantle_openai_base(model_id: &str) -> bool {
    model_id.starts_with("openai.gpt-") && !model_id.starts_with("openai.gpt-oss")
}

/// Whether Bedrock Mantle serves `model_id` (a Claude model) through Anthropic's Messages API
/// only (`/anthropic/v1/messages`): its OpenAI-compatible surface serves the other families
/// (<https://docs.aws.amazon.com/bedrock/latest/userguide/inference-messages-api.html>,
/// <https://docs.getbifrost.ai/providers/supported-providers/bedrock-mantle>).
pub(crate) fn mantle_messages_only(model_id: &str) -> bool {
    model_id.starts_with("anthropic.")
}

/// The embedding family of a model id, inference profile id or ARN. Matched before the
/// version suffix is removed (`-v2:0` is part of Titan's name).
pub(crate) fn embedding_family(model_id: &str) -> Option<EmbeddingFamily> {
    let mut id = model_id.trim().to_ascii_lowercase();
    if id.starts_with("arn:") {
        id = id.rsplit('/').next().unwrap_or_default().to_string();
    }
    EMBEDDINGS.iter().find(|(k, _)| id.contains(k)).map(|(_, f)| *f)
}

/// Inference-profile prefixes (geographic or `global`).
const PROFILE_PREFIXES: &[&str] = &["us", "eu", "apac", "global", "jp", "au", "ca", "us-gov", "apne", "in"];

/// The catalog key of a model id, inference profile id or ARN (see the module documentation).
pub(crate) fn normalize(model_id: &str) -> String {
    let mut id = model_id.trim().to_ascii_lowercase();
    if id.starts_with("arn:") {
        id = id.rsplit('/').next().unwrap_or_default().to_string();
    }
    if let Some((head, rest)) = id.split_once('.') {
        if PROFILE_PREFIXES.contains(&head) && rest.contains('.') {
            id = rest.to_string();
        }
    }
    if let Some(i) = id.rfind(':') {
        if id[i + 1..].bytes().all(|b| b.is_ascii_digit()) {
            id.truncate(i);
        }
    }
    strip_suffix(&mut id, |s| {
        s.len() >= 2 && s.starts_with('v') && s[1..].bytes().all(|b| b.is_ascii_digit())
    });
    strip_suffix(&mut id, |s| s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()));
    if id.starts_with("claude-") {
        id.insert_str(0, "anthropic.");
    }
    id
}

/// Remove the last `-segment` when `is` says it is a version or date.
fn strip_suffix(id: &mut String, is: impl Fn(&str) -> bool) {
    if let Some(i) = id.rfind('-') {
        if is(&id[i + 1..]) {
            id.truncate(i);
        }
    }
}

/// The catalog entry an id matches, if any (exact model, family, or Claude by version).
pub(crate) fn entry(model_id: &str) -> Option<&'static Entry> {
    known(model_id).or_else(|| {
        let key = normalize(model_id);
        key.starts_with("anthropic.claude")
            .then(|| newest_claude_up_to(&key))
            .flatten()
    })
}

/// The catalog entry naming `model_id` exactly (a listed model, or a family by prefix), without
/// the Claude version fallback: what a configured `base_model` must be.
pub(crate) fn known(model_id: &str) -> Option<&'static Entry> {
    let key = normalize(model_id);
    MODELS.iter().find(|m| m.key == key).or_else(|| {
        FAMILIES
            .iter()
            .filter(|f| key.starts_with(f.key))
            .max_by_key(|f| f.key.len())
    })
}

/// What `model_id` accepts ([`UNKNOWN`] when the catalog does not know it).
pub(crate) fn lookup(model_id: &str) -> Caps {
    entry(model_id).map_or(UNKNOWN, |e| e.caps)
}

/// `(major, minor)` of a normalized Claude key: `claude-opus-4-6` → (4, 6),
/// `claude-3-7-sonnet` → (3, 7), `claude-opus-5` → (5, 0). A two-digit-or-less number only.
pub(crate) fn claude_version(key: &str) -> Option<(u32, u32)> {
    let rest = key.strip_prefix("anthropic.claude-")?;
    let mut nums = rest
        .split('-')
        .filter(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = nums.next()?;
    Some((major, nums.next().unwrap_or(0)))
}

/// An unlisted Claude model behaves like the newest listed Claude model not newer than it (one
/// whose version cannot be read gets the conservative default); among equals, one of its own tier
/// (`opus`, `sonnet`, …), then one that does not think unasked: new models keep their
/// generation's rules until the catalog or the configuration says otherwise.
fn newest_claude_up_to(key: &str) -> Option<&'static Entry> {
    let want = claude_version(key)?;
    let tier = |k: &str| {
        k.strip_prefix("anthropic.claude-")
            .and_then(|r| r.split('-').find(|p| p.bytes().all(|b| b.is_ascii_alphabetic())))
            .map(str::to_owned)
    };
    let own = tier(key);
    MODELS
        .iter()
        .filter_map(|m| claude_version(m.key).map(|v| (v, m)))
        .filter(|(v, _)| *v <= want)
        .max_by_key(|(v, m)| (*v, own.is_some() && tier(m.key) == own, !m.caps.thinks_by_default))
        .map(|(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_normalized_before_matching() {
        for (id, key) in [
            (
                "us.anthropic.claude-sonnet-4-20250514-v1:0",
                "anthropic.claude-sonnet-4",
            ),
            ("global.anthropic.claude-opus-4-6-v1", "anthropic.claude-opus-4-6"),
            ("eu.anthropic.claude-opus-4-7", "anthropic.claude-opus-4-7"),
            (
                "anthropic.claude-3-5-sonnet-20241022-v2:0",
                "anthropic.claude-3-5-sonnet",
            ),
            ("claude-opus-4-8", "anthropic.claude-opus-4-8"),
            (
                "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0",
                "anthropic.claude-haiku-4-5",
            ),
            (
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
                "anthropic.claude-3-haiku",
            ),
            ("openai.gpt-oss-120b-1:0", "openai.gpt-oss-120b-1"),
            ("us.deepseek.r1-v1:0", "deepseek.r1"),
            ("US.Amazon.Nova-2-Lite-v1:0", "amazon.nova-2-lite"),
        ] {
            assert_eq!(normalize(id), key, "{id}");
        }
    }

    #[test]
    fn models_families_and_the_default() {
        let name = |id: &str| entry(id).map(|e| e.name);
        assert_eq!(name("us.anthropic.claude-opus-4-7"), Some("Claude Opus 4.7"));
        assert_eq!(name("global.anthropic.claude-fable-5"), Some("Claude Fable 5"));
        assert_eq!(name("openai.gpt-oss-20b-1:0"), Some("gpt-oss"));
        assert_eq!(name("moonshot.kimi-k2-thinking"), Some("Kimi K2 Thinking"));
        assert_eq!(name("deepseek.v3-v1:0"), Some("DeepSeek V3.x"));
        assert_eq!(name("amazon.nova-pro-v1:0"), Some("Nova Pro"));
        // Unlisted Claude: the newest listed model not newer, same tier first.
        assert_eq!(name("anthropic.claude-opus-4-9"), Some("Claude Opus 4.8"));
        assert_eq!(name("anthropic.claude-sonnet-5-5"), Some("Claude Sonnet 5"));
        assert_eq!(name("anthropic.claude-haiku-5-5"), Some("Claude Sonnet 5"));
        assert_eq!(name("anthropic.claude-instant-v1"), None);
        // An application inference profile hides its model: the conservative default.
        let arn = "arn:aws:bedrock:us-east-1:1:application-inference-profile/a1b2c3";
        assert_eq!(name(arn), None);
        assert_eq!(lookup(arn), UNKNOWN);
        assert_eq!(lookup("writer.palmyra-x5-v1:0"), UNKNOWN);
    }

    #[test]
    fn the_generations_differ_where_the_sources_say() {
        let c = |id| lookup(id);
        assert_eq!(
            c("anthropic.claude-sonnet-4-5-20250929-v1:0").reasoning,
            Reasoning::Budget
        );
        assert_eq!(c("anthropic.claude-opus-4-6-v1").reasoning, Reasoning::Adaptive);
        assert_eq!(c("anthropic.claude-opus-4-7").reasoning, Reasoning::AdaptiveOnly);
        assert_eq!(c("anthropic.claude-opus-4-6-v1").display, Some(Display::Summarized));
        assert_eq!(c("anthropic.claude-opus-4-7").display, Some(Display::Omitted));
        assert!(!c("anthropic.claude-opus-4-6-v1").efforts.contains(Level::XHigh));
        assert!(c("anthropic.claude-opus-4-7").efforts.contains(Level::XHigh));
        assert!(c("anthropic.claude-opus-4-5-20251101-v1:0").prefill);
        assert!(!c("anthropic.claude-sonnet-4-6").prefill);
        assert_eq!(c("anthropic.claude-opus-4-8").sampling, Sampling::Fixed);
        assert_eq!(c("anthropic.claude-opus-5").disable, Disable::UpToHigh);
        assert_eq!(c("anthropic.claude-mythos-5").disable, Disable::No);
        assert!(c("anthropic.claude-opus-4-5-20251101-v1:0")
            .betas
            .contains(&"interleaved-thinking-2025-05-14"));
        assert!(!c("anthropic.claude-opus-4-6-v1")
            .betas
            .contains(&"interleaved-thinking-2025-05-14"));
        assert!(c("anthropic.claude-opus-4-7").betas.is_empty());
        assert_eq!(Levels::LMH.nearest(Level::XHigh), Some(Level::High));
        assert_eq!(Levels::HIGH.nearest(Level::Low), Some(Level::High));
        assert_eq!(Levels::NONE.nearest(Level::Low), None);
    }

    fn yes(b: bool) -> &'static str {
        if b {
            "yes"
        } else {
            "no"
        }
    }

    /// One README row per catalog entry.
    fn row(e: &Entry) -> String {
        let c = &e.caps;
        let efforts: Vec<&str> = c.efforts.iter().map(Level::as_str).collect();
        let disable = match c.disable {
            Disable::Yes => "yes",
            Disable::UpToHigh => "at effort ≤ high",
            Disable::No => "no",
        };
        let sampling = match c.sampling {
            Sampling::Free => "free",
            Sampling::NotBoth => "temperature or top_p",
            Sampling::Fixed => "defaults only",
        };
        let caching = match (c.caching, c.cache_ttl_1h) {
            (Caching::None, _) => "no",
            (Caching::NoTools, _) => "system, messages",
            (Caching::Full, true) => "yes (5 min, 1 h)",
            (Caching::Full, false) => "yes (5 min)",
        };
        let max = if c.max_output == 0 {
            "?".to_string()
        } else {
            format!("{}K", c.max_output / 1000)
        };
        format!(
            "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            e.name,
            e.key,
            c.reasoning.as_str(),
            yes(c.thinks_by_default),
            disable,
            if efforts.is_empty() {
                "—".to_string()
            } else {
                efforts.join(", ")
            },
            c.display.map_or("—", Display::as_str),
            max,
            sampling,
            caching,
            yes(c.strict_tools && c.native_structured_output),
            yes(c.prefill),
            yes(c.images),
            if c.betas.is_empty() {
                "none".to_string()
            } else {
                c.betas.len().to_string()
            },
        )
    }

    /// The README's model table is the catalog's (regenerate it from this test's message).
    #[test]
    fn readme_table_matches_the_catalog() {
        let mut table = String::from(
            "| model / family | catalog key | reasoning | thinks unasked | can disable | efforts | display default | max output | sampling | prompt caching | strict tools + structured output | prefill | images | betas |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for e in MODELS.iter().chain(FAMILIES) {
            table.push_str(&row(e));
            table.push('\n');
        }
        let readme = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap_or_default();
        let inside = readme
            .split("<!-- catalog:begin -->\n")
            .nth(1)
            .and_then(|r| r.split("<!-- catalog:end -->").next())
            .unwrap_or_default();
        assert_eq!(
            inside, table,
            "README model table differs from the catalog; expected:\n{table}"
        );
    }

    /// The catalog is the only place a model id is matched: no other source file names a
    /// model family in a string literal outside its tests.
    #[test]
    fn no_model_id_is_matched_outside_the_catalog() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let needles = [
            "anthropic.",
            "claude-",
            "gpt-oss",
            "deepseek.",
            "kimi-",
            "moonshot",
            "qwen.",
            "qwen3",
            "zai.",
            "glm-",
            "amazon.nova",
            "amazon.titan",
            "nova-",
            "meta.",
            "llama",
            "mistral.",
            "cohere.",
            "opus-",
            "sonnet-",
            "haiku-",
            "mythos",
            "fable",
        ];
        let mut offenders = Vec::new();
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for ent in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = ent.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("bedrock/catalog.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                // Test modules may name models in their fixtures.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (n, line) in code.lines().enumerate() {
                    let l = line.trim_start();
                    if l.starts_with("//") {
                        continue;
                    }
                    let lower = l.to_ascii_lowercase();
                    let literals: Vec<&str> = lower.split('"').skip(1).step_by(2).collect();
                    if needles.iter().any(|nd| literals.iter().any(|s| s.contains(nd))) {
                        offenders.push(format!("{}:{}: {}", path.display(), n + 1, l));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "model ids matched outside the catalog:\n{}",
            offenders.join("\n")
        );
    }
}
