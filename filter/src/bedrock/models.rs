//! Model-family knowledge, in one place: how each family takes reasoning, and (as they are
//! added) which families support prompt caching, forced tools with thinking, sampling limits.
//! Front doors call these; none of them matches on model ids itself.

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
pub fn thinking_budget(effort: &str) -> Option<u64> {
    match effort {
        "minimal" | "low" => Some(1024),
        "medium" => Some(2048),
        "high" => Some(4096),
        _ => None,
    }
}

/// Output tokens added above the thinking budget when the client's `max_tokens` does not leave
/// room for an answer.
pub const ANSWER_TOKENS_ABOVE_BUDGET: u64 = 4096;

/// Bedrock's `maxTokens` is a 32-bit integer.
pub const MAX_TOKENS_LIMIT: u64 = i32::MAX as u64;
