//! Model knowledge, in one place: what each model can take ([`Capabilities`]), read by the
//! request pipeline ([`super::pipeline`]) through [`capabilities`] (its catalog step) and
//! [`reasoning`] (its thinking step). Nothing else matches on model ids.

use serde_json::{Map, Value};

/// Model families whose reasoning is controlled differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningFamily {
    /// `additionalModelRequestFields.thinking` with a token budget.
    Claude,
    /// `additionalModelRequestFields.reasoning_effort`.
    GptOss,
    /// `additionalModelRequestFields.reasoning_config`.
    Qwen,
    /// `additionalModelRequestFields.reasoningConfig.maxReasoningEffort` (Nova 2).
    Nova,
    /// Reasons on every request; nothing to set (DeepSeek R1).
    AlwaysOn,
    Other,
}

/// The reasoning family of a model id, inference profile id or ARN.
pub fn reasoning_family(model_id: &str) -> ReasoningFamily {
    let id = model_id.to_ascii_lowercase();
    if id.contains("anthropic.claude") {
        ReasoningFamily::Claude
    } else if id.contains("openai.gpt-oss") {
        ReasoningFamily::GptOss
    } else if id.contains("qwen.") {
        ReasoningFamily::Qwen
    } else if id.contains("amazon.nova-2") {
        ReasoningFamily::Nova
    } else if id.contains("deepseek.r1") {
        ReasoningFamily::AlwaysOn
    } else {
        ReasoningFamily::Other
    }
}

/// Reasoning budgets (Claude `thinking.budget_tokens`) for an OpenAI-style effort. Same values
/// as LiteLLM, so applications moving from it behave the same; 1024 is Anthropic's minimum.
/// Reasoning budgets (Claude `thinking.budget_tokens`) for an OpenAI-style effort. Same values
/// as LiteLLM, so applications moving from it behave the same; 1024 is Anthropic's minimum.
fn thinking_budget(effort: Effort) -> u64 {
    match effort {
        Effort::Medium => 2048,
        Effort::High => 4096,
        _ => 1024,
    }
}

/// Bedrock's `maxTokens` is a 32-bit integer.
pub const MAX_TOKENS_LIMIT: u64 = i32::MAX as u64;

/// An OpenAI-style reasoning effort (`reasoning_effort`, Responses `reasoning.effort`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    None,
    Minimal,
    Low,
    Medium,
    High,
}

impl Effort {
    pub fn parse(s: &str) -> Option<Effort> {
        Some(match s {
            "none" => Effort::None,
            "minimal" => Effort::Minimal,
            "low" => Effort::Low,
            "medium" => Effort::Medium,
            "high" => Effort::High,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Effort::None => "none",
            Effort::Minimal => "minimal",
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
        }
    }

    /// The level for families without `minimal` (gpt-oss, Qwen, Nova): `minimal` becomes `low`.
    fn level(self) -> &'static str {
        match self {
            Effort::Minimal => "low",
            e => e.as_str(),
        }
    }
}

/// What a reasoning request adds to a Converse request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReasoningSetting {
    /// Entries for `additionalModelRequestFields`.
    pub fields: Map<String, Value>,
    /// The thinking token budget, when the family reasons within one (Claude): the answer needs
    /// `maxTokens` above it (the pipeline raises it).
    pub budget: Option<u64>,
}

fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The reasoning a client asked for, in its API's terms, before the model's rules are applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ReasoningAsk {
    /// Nothing asked (or Anthropic's `thinking: {"type": "disabled"}`).
    #[default]
    Unset,
    /// An OpenAI-style effort (`reasoning_effort`, Responses `reasoning.effort`).
    Effort(Effort),
    /// Anthropic's `thinking: {"type": "enabled", "budget_tokens"}`.
    Budget(u64),
    /// Anthropic's `thinking: {"type": "adaptive"}`.
    Adaptive,
    /// A client's own Claude-style `thinking` object (chat completions), passed as it is.
    Fields(Value),
}

/// The request fields for the reasoning `ask` on a model with `caps`: the one place that decides
/// how a model is asked to reason. `None` when the model has no such control (the pipeline
/// refuses the client's parameter, or drops it with `unsupported_params: "drop"`).
pub fn reasoning(caps: &Capabilities, ask: &ReasoningAsk) -> Option<ReasoningSetting> {
    let family = caps.reasoning;
    match ask {
        ReasoningAsk::Unset => Some(ReasoningSetting::default()),
        ReasoningAsk::Effort(e) => effort_setting(family, *e),
        ReasoningAsk::Budget(b) if family == ReasoningFamily::Claude => Some(claude_thinking(*b)),
        // Other families take an effort level; the budget picks it.
        ReasoningAsk::Budget(b) => effort_setting(
            family,
            match b {
                ..2048 => Effort::Low,
                2048..8192 => Effort::Medium,
                _ => Effort::High,
            },
        ),
        ReasoningAsk::Adaptive => match family {
            ReasoningFamily::Claude => {
                let mut s = ReasoningSetting::default();
                s.fields
                    .insert("thinking".into(), object([("type", Value::String("adaptive".into()))]));
                Some(s)
            }
            ReasoningFamily::AlwaysOn => Some(ReasoningSetting::default()),
            _ => None,
        },
        ReasoningAsk::Fields(thinking) => {
            let budget = thinking.get("budget_tokens").and_then(Value::as_u64);
            let mut fields = Map::new();
            fields.insert("thinking".into(), thinking.clone());
            Some(ReasoningSetting { fields, budget })
        }
    }
}

/// Claude's extended thinking with a token budget.
fn claude_thinking(budget: u64) -> ReasoningSetting {
    let mut s = ReasoningSetting {
        budget: Some(budget),
        ..Default::default()
    };
    s.fields.insert(
        "thinking".into(),
        object([
            ("type", Value::String("enabled".into())),
            ("budget_tokens", Value::from(budget)),
        ]),
    );
    s
}

/// The request fields for a reasoning effort on `family`. `None` when the family has no effort
/// control the filter knows.
fn effort_setting(family: ReasoningFamily, effort: Effort) -> Option<ReasoningSetting> {
    let mut s = ReasoningSetting::default();
    if effort == Effort::None {
        return Some(s);
    }
    let level = || Value::String(effort.level().to_owned());
    match family {
        ReasoningFamily::Claude => return Some(claude_thinking(thinking_budget(effort))),
        ReasoningFamily::GptOss => {
            s.fields.insert("reasoning_effort".into(), level());
        }
        ReasoningFamily::Qwen => {
            s.fields.insert("reasoning_config".into(), level());
        }
        ReasoningFamily::Nova => {
            s.fields.insert(
                "reasoningConfig".into(),
                object([
                    ("type", Value::String("enabled".into())),
                    ("maxReasoningEffort", level()),
                ]),
            );
        }
        ReasoningFamily::AlwaysOn => {}
        ReasoningFamily::Other => return None,
    }
    Some(s)
}

/// The name of the tool forced for a JSON answer when the client's schema has no name.
pub const JSON_TOOL_NAME: &str = "json_response";

/// A structured (JSON) answer the client asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonAnswer {
    /// A valid tool name ([`super::build::is_valid_tool_name`]).
    pub name: String,
    pub description: String,
    pub schema: Value,
    /// The client asked for strict schema adherence (OpenAI `json_schema.strict`).
    pub strict: bool,
}

// ---------------------------------------------------------------------------------------------
// Versions, prompt caching, sampling and structured-output support

/// `(major, minor)` of a Claude model id, inference profile id or ARN:
/// `claude-sonnet-4-5-20250929` → (4, 5), `claude-3-7-sonnet` → (3, 7),
/// `claude-sonnet-4-20250514` → (4, 0) (a date is not a minor version). `None` if not Claude.
pub fn claude_version(model_id: &str) -> Option<(u32, u32)> {
    let id = model_id.to_ascii_lowercase();
    let at = id.find("anthropic.claude-")? + "anthropic.claude-".len();
    let mut nums = id
        .get(at..)?
        .split('-')
        .skip_while(|p| !p.starts_with(|c: char| c.is_ascii_digit()));
    let major = nums.next()?.parse().ok()?;
    let minor = match nums.next() {
        Some(m) if m.len() <= 2 => m.parse().unwrap_or(0),
        _ => 0,
    };
    Some((major, minor))
}

/// Which parts of a request a model can cache (`cachePoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// No prompt caching: every cache point is left out.
    None,
    /// System and messages, not tool definitions (Amazon Nova).
    NoTools,
    /// System, messages and tools (Claude).
    Full,
}

/// Prompt caching per model family. Source: Amazon Bedrock user guide, "Prompt caching for faster
/// model inference" (docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html),
/// supported-models table: Claude 3.7 Sonnet, Claude 3.5 Haiku, Claude 4 and later (Sonnet, Opus,
/// Haiku); Amazon Nova Micro/Lite/Pro/Premier and Nova 2 (system and messages only). Claude 3,
/// Claude 3.5 Sonnet (v2 caching was a preview only), Llama, Mistral, DeepSeek, Qwen, gpt-oss:
/// none.
pub fn prompt_caching(model_id: &str) -> Caching {
    let id = model_id.to_ascii_lowercase();
    // An application inference profile, provisioned or custom model ARN does not name its
    // model: pass the client's cache points on (Bedrock answers if the model cannot cache).
    if ["application-inference-profile/", "provisioned-model/", "custom-model"]
        .iter()
        .any(|n| id.contains(n))
    {
        return Caching::Full;
    }
    if [
        "amazon.nova-micro",
        "amazon.nova-lite",
        "amazon.nova-pro",
        "amazon.nova-premier",
        "amazon.nova-2",
    ]
    .iter()
    .any(|n| id.contains(n))
    {
        return Caching::NoTools;
    }
    match claude_version(&id) {
        Some((major, _)) if major >= 4 => Caching::Full,
        Some((3, 7)) => Caching::Full,
        Some((3, 5)) if id.contains("haiku") => Caching::Full,
        _ => Caching::None,
    }
}

/// Claude 4.5 and later refuse `temperature` and `top_p` together ("`temperature` and `top_p`
/// cannot both be specified for this model"; Bedrock's Anthropic parameters page).
pub fn refuses_temperature_with_top_p(model_id: &str) -> bool {
    matches!(claude_version(model_id), Some((major, minor)) if major > 4 || (major == 4 && minor >= 5))
}

/// Models with Converse native structured output (`outputConfig.textFormat` JSON schema) and
/// strict tools (`toolSpec.strict`). Source: Amazon Bedrock user guide, "Get validated JSON
/// results from models" (structured-output.html) and "Structured outputs for Anthropic Claude
/// models": Claude Sonnet 4.5, Haiku 4.5, Opus 4.5 and later (Claude 4.1 and older, and other
/// families, keep the forced-tool path).
pub fn native_structured_output(model_id: &str) -> bool {
    refuses_temperature_with_top_p(model_id)
}

// ---------------------------------------------------------------------------------------------
// Capabilities

/// Where a model takes `top_k` (Converse has no `topK`: each family has its own request field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopK {
    /// No `top_k` on this model.
    None,
    /// `additionalModelRequestFields.<name>` (Claude and Mistral `top_k`, Cohere Command `k`).
    Field(&'static str),
    /// `additionalModelRequestFields.inferenceConfig.topK` (Amazon Nova).
    NovaInferenceConfig,
}

/// What a model can take: everything the request pipeline needs to know about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub reasoning: ReasoningFamily,
    pub caching: Caching,
    /// Converse native structured output (`outputConfig.textFormat`) and `toolSpec.strict`.
    pub native_structured_output: bool,
    /// Refuses `temperature` and `top_p` together.
    pub refuses_temperature_with_top_p: bool,
    pub top_k: TopK,
    /// Takes `anthropic_beta` flags ([`BEDROCK_BETAS`]).
    pub anthropic_betas: bool,
}

/// `anthropic-beta` flags that Bedrock's Claude models accept in
/// `additionalModelRequestFields.anthropic_beta`. Every other flag is dropped (and logged):
/// Claude Code sends several that Bedrock refuses with a 400.
pub const BEDROCK_BETAS: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
];

/// The capabilities of a model id, inference profile id or ARN: the one place the request
/// pipeline reads model knowledge from.
pub fn capabilities(model_id: &str) -> Capabilities {
    let id = model_id.to_ascii_lowercase();
    let reasoning = reasoning_family(&id);
    // Anthropic's Messages API on Bedrock (InvokeModel) and the Converse model-parameter pages:
    // https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters.html
    let top_k = if reasoning == ReasoningFamily::Claude || id.contains("mistral.") {
        TopK::Field("top_k")
    } else if id.contains("cohere.command") {
        TopK::Field("k")
    } else if id.contains("amazon.nova") {
        TopK::NovaInferenceConfig
    } else {
        TopK::None
    };
    Capabilities {
        reasoning,
        caching: prompt_caching(&id),
        native_structured_output: native_structured_output(&id),
        refuses_temperature_with_top_p: refuses_temperature_with_top_p(&id),
        top_k,
        anthropic_betas: reasoning == ReasoningFamily::Claude,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effort(model_id: &str, e: Effort) -> Option<ReasoningSetting> {
        reasoning(&capabilities(model_id), &ReasoningAsk::Effort(e))
    }

    #[test]
    fn effort_per_family() {
        let claude = effort("us.anthropic.claude-sonnet-4-20250514-v1:0", Effort::Medium).unwrap();
        assert_eq!(claude.budget, Some(2048));
        assert_eq!(claude.fields["thinking"]["budget_tokens"], 2048);
        let oss = effort("openai.gpt-oss-120b-1:0", Effort::Minimal).unwrap();
        assert_eq!(oss.fields["reasoning_effort"], "low");
        assert_eq!(oss.budget, None);
        let nova = effort("amazon.nova-2-lite-v1:0", Effort::High).unwrap();
        assert_eq!(nova.fields["reasoningConfig"]["maxReasoningEffort"], "high");
        assert!(effort("us.deepseek.r1-v1:0", Effort::High).unwrap().fields.is_empty());
        assert!(effort("mistral.large", Effort::High).is_none());
        assert!(effort("mistral.large", Effort::None).is_some());
    }

    #[test]
    fn budget_and_adaptive_per_family() {
        let ask = |id: &str, a: ReasoningAsk| reasoning(&capabilities(id), &a);
        let claude = "us.anthropic.claude-sonnet-4-20250514-v1:0";
        let b = ask(claude, ReasoningAsk::Budget(3000)).unwrap();
        assert_eq!(
            (b.budget, b.fields["thinking"]["budget_tokens"].as_u64()),
            (Some(3000), Some(3000))
        );
        let b = ask("openai.gpt-oss-120b-1:0", ReasoningAsk::Budget(3000)).unwrap();
        assert_eq!(b.fields["reasoning_effort"], "medium");
        assert_eq!(
            ask(claude, ReasoningAsk::Adaptive).unwrap().fields["thinking"]["type"],
            "adaptive"
        );
        assert!(ask("us.amazon.nova-pro-v1:0", ReasoningAsk::Adaptive).is_none());
        assert!(ask("us.amazon.nova-pro-v1:0", ReasoningAsk::Budget(2000)).is_none());
    }

    #[test]
    fn versions_caching_and_structured_output() {
        assert_eq!(
            claude_version("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            Some((4, 5))
        );
        assert_eq!(
            claude_version("anthropic.claude-3-7-sonnet-20250219-v1:0"),
            Some((3, 7))
        );
        assert_eq!(
            claude_version("us.anthropic.claude-sonnet-4-20250514-v1:0"),
            Some((4, 0))
        );
        assert_eq!(claude_version("anthropic.claude-3-haiku-20240307-v1:0"), Some((3, 0)));
        assert_eq!(claude_version("meta.llama3-8b-instruct-v1:0"), None);
        assert_eq!(
            prompt_caching("us.anthropic.claude-sonnet-4-20250514-v1:0"),
            Caching::Full
        );
        assert_eq!(
            prompt_caching("anthropic.claude-3-5-haiku-20241022-v1:0"),
            Caching::Full
        );
        assert_eq!(
            prompt_caching("anthropic.claude-3-5-sonnet-20240620-v1:0"),
            Caching::None
        );
        assert_eq!(prompt_caching("amazon.nova-pro-v1:0"), Caching::NoTools);
        assert_eq!(prompt_caching("meta.llama3-8b-instruct-v1:0"), Caching::None);
        assert_eq!(
            prompt_caching("arn:aws:bedrock:us-east-1:1:application-inference-profile/abc"),
            Caching::Full
        );
        assert!(refuses_temperature_with_top_p(
            "global.anthropic.claude-haiku-4-5-20251001-v1:0"
        ));
        assert!(!refuses_temperature_with_top_p(
            "anthropic.claude-opus-4-1-20250805-v1:0"
        ));
        assert!(native_structured_output("anthropic.claude-opus-4-6-v1"));
        assert!(!native_structured_output("meta.llama3-8b-instruct-v1:0"));
    }
}
