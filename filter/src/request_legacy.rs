//! OpenAI `POST /v1/chat/completions` request → Bedrock Converse / ConverseStream request.
//!
//! Every parameter is either translated, accepted at its default value, or refused with a 400
//! that names it (or dropped when the configuration says `unsupported_params: "drop"`).
//! Nothing unknown is forwarded to Bedrock.

use crate::config::{Api, Config, UnsupportedParams};
use crate::error::ApiError;
use serde_json::{Map, Value};

/// A translated request, ready to sign and send.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The model name the client asked for (echoed in responses).
    pub client_model: String,
    /// The Bedrock model id, inference profile id or ARN.
    pub model_id: String,
    pub stream: bool,
    pub include_usage: bool,
    /// `/model/{percent-encoded id}/converse` or `/converse-stream`.
    pub path: String,
    /// The Converse JSON body.
    pub body: Vec<u8>,
    /// With `response_format` json_object / json_schema: the forced tool whose input is the
    /// answer, returned to the client as the message content.
    pub json_tool: Option<String>,
    /// Converse (translated) or Bedrock's OpenAI-compatible endpoint (passed through).
    pub api: Api,
}

/// The path of Bedrock's OpenAI-compatible chat completions endpoint.
pub const OPENAI_PATH: &str = "/openai/v1/chat/completions";

/// The name of the tool forced for `response_format` when the schema has no name.
pub const JSON_TOOL_NAME: &str = "json_response";

/// Reasoning budgets (Claude `thinking.budget_tokens`) for `reasoning_effort`. Same values as
/// LiteLLM, so applications moving from it behave the same; 1024 is Anthropic's minimum.
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

/// Percent-encode a model id as one path segment: everything but RFC 3986 unreserved characters,
/// so `:` and `/` (inference profile ARNs) stay inside the segment.
pub fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
    out
}

type R<T> = Result<T, ApiError>;

/// A JSON object from key/value pairs. One small function instead of `json!`, whose expansion
/// at each of ~50 call sites (a generic `to_value(..).unwrap()` per value) cost the module
/// tens of kilobytes.
fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.to_owned(), v);
    }
    Value::Object(m)
}

fn str_value(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn bad(param: impl Into<String>, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_param(param, msg)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn want_str<'a>(v: &'a Value, param: &str) -> R<&'a str> {
    v.as_str()
        .ok_or_else(|| bad(param, format!("`{param}` must be a string, not {}", type_name(v))))
}

fn want_obj<'a>(v: &'a Value, param: &str) -> R<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| bad(param, format!("`{param}` must be an object, not {}", type_name(v))))
}

fn want_arr<'a>(v: &'a Value, param: &str) -> R<&'a Vec<Value>> {
    v.as_array()
        .ok_or_else(|| bad(param, format!("`{param}` must be an array, not {}", type_name(v))))
}

fn want_bool(v: &Value, param: &str) -> R<bool> {
    v.as_bool()
        .ok_or_else(|| bad(param, format!("`{param}` must be a boolean, not {}", type_name(v))))
}

/// Bedrock's `requestMetadata`: at most 16 entries; keys 1-256 and values 0-256 characters of
/// letters, digits, whitespace and `:_@$#=/+,-.`.
const MAX_METADATA_ENTRIES: usize = 16;

fn metadata_text(s: &str, param: &str, min: usize) -> R<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c.is_whitespace() || ":_@$#=/+,-.".contains(c);
    let n = s.chars().count();
    if n < min || n > 256 || !s.chars().all(ok_char) {
        return Err(bad(
            param,
            format!(
                "`{param}` must be {min} to 256 characters of letters, digits, spaces and :_@$#=/+,-. \
                 (Bedrock requestMetadata)"
            ),
        ));
    }
    Ok(())
}

/// Largest token count Bedrock accepts (`maxTokens` is a 32-bit signed integer).
pub const MAX_TOKENS_LIMIT: u64 = i32::MAX as u64;

fn want_u64(v: &Value, param: &str) -> R<u64> {
    match v.as_u64() {
        Some(n) if (1..=MAX_TOKENS_LIMIT).contains(&n) => Ok(n),
        _ => Err(bad(param, format!("`{param}` must be an integer from 1 to 2147483647"))),
    }
}

/// A number within `lo..=hi`; `range` is the same bounds as text (formatting floats would pull
/// float printing code into the module for one error message).
fn want_f64(v: &Value, param: &str, lo: f64, hi: f64, range: &str) -> R<f64> {
    match v.as_f64() {
        Some(x) if (lo..=hi).contains(&x) => Ok(x),
        _ => Err(bad(param, format!("`{param}` must be a number from {range}"))),
    }
}

/// What the translator does with each top-level OpenAI parameter.
enum Param {
    /// Translated below.
    Handled,
    /// Accepted when it has this harmless default value; otherwise unsupported.
    DefaultOnly(fn(&Value) -> bool),
}

fn param_kind(name: &str) -> Option<Param> {
    use Param::*;
    let is_null = |v: &Value| v.is_null();
    Some(match name {
        "model"
        | "messages"
        | "stream"
        | "stream_options"
        | "max_tokens"
        | "max_completion_tokens"
        | "temperature"
        | "top_p"
        | "stop"
        | "tools"
        | "tool_choice"
        | "user"
        | "metadata"
        | "reasoning_effort"
        | "thinking"
        | "response_format"
        | "parallel_tool_calls"
        | "store"
        | "service_tier" => Handled,
        "n" => DefaultOnly(|v| v.is_null() || v.as_u64() == Some(1)),
        "logprobs" => DefaultOnly(|v| v.is_null() || v == &Value::Bool(false)),
        "top_logprobs" => DefaultOnly(|v| v.is_null() || v.as_u64() == Some(0)),
        "presence_penalty" | "frequency_penalty" => DefaultOnly(|v| v.is_null() || v.as_f64() == Some(0.0)),
        "logit_bias" => DefaultOnly(|v| v.is_null() || v.as_object().is_some_and(|m| m.is_empty())),
        "modalities" => DefaultOnly(|v| v.is_null() || v.as_array().is_some_and(|a| a.len() == 1 && a[0] == "text")),
        "seed" | "audio" | "prediction" | "web_search_options" | "function_call" | "functions" => DefaultOnly(is_null),
        _ => return None,
    })
}

/// Translate an OpenAI chat completions request body.
pub fn translate(body: &[u8], cfg: &Config) -> R<ChatRequest> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_request(format!("the request body is not valid JSON: {e}")).with_code("invalid_json")
    })?;
    let req = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_request("the request body must be a JSON object"))?;
    let drop = cfg.unsupported_params == UnsupportedParams::Drop;

    let client_model = match req.get("model") {
        Some(m) => want_str(m, "model")?.to_string(),
        None => return Err(bad("model", "you must provide a model parameter").with_code("missing_required_parameter")),
    };
    if client_model.trim().is_empty() || client_model.len() > 2048 || client_model.chars().any(char::is_control) {
        return Err(bad(
            "model",
            "`model` must be a non-empty model name without control characters",
        ));
    }
    let (model_id, api) = cfg.resolve_model(&client_model);
    let model_id = model_id.to_string();
    // `.` and `..` are the only segments percent-encoding cannot keep inside `/model/{id}/`:
    // they are unreserved, and path normalisation (Envoy's, a proxy's) would resolve them.
    if model_id == "." || model_id == ".." {
        return Err(bad("model", format!("`{model_id}` is not a valid model id")).with_code("model_not_found"));
    }
    if api == Api::Openai {
        return openai_passthrough(req, client_model, model_id);
    }

    for (k, val) in req {
        match param_kind(k) {
            Some(Param::Handled) => {}
            Some(Param::DefaultOnly(ok)) if ok(val) => {}
            Some(_) if drop => {}
            Some(_) => {
                return Err(bad(
                    k.as_str(),
                    format!("`{k}` is not supported by Amazon Bedrock (only its default value is accepted)"),
                )
                .with_code("unsupported_parameter"))
            }
            None if drop => {}
            None => {
                return Err(bad(k.as_str(), format!("Unrecognized request argument supplied: {k}"))
                    .with_code("unknown_parameter"))
            }
        }
    }

    let stream = match req.get("stream") {
        None | Some(Value::Null) => false,
        Some(s) => want_bool(s, "stream")?,
    };
    let include_usage = match req.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(o) => match want_obj(o, "stream_options")?.get("include_usage") {
            None | Some(Value::Null) => false,
            Some(b) => want_bool(b, "stream_options.include_usage")?,
        },
    };

    let mut out = Map::new();
    let messages = match req.get("messages") {
        Some(m) => want_arr(m, "messages")?,
        None => {
            return Err(bad("messages", "you must provide a messages parameter").with_code("missing_required_parameter"))
        }
    };
    if messages.is_empty() {
        return Err(bad("messages", "`messages` must contain at least one message"));
    }
    if messages.len() > cfg.limits.max_messages {
        return Err(bad(
            "messages",
            format!(
                "`messages` has {} entries; this gateway accepts at most {}",
                messages.len(),
                cfg.limits.max_messages
            ),
        ));
    }
    let conv = messages::translate(messages)?;
    if conv.messages.is_empty() {
        return Err(bad(
            "messages",
            "`messages` must contain at least one user or assistant message",
        ));
    }

    // Inference parameters.
    let mut inference = Map::new();
    let max_tokens = match (req.get("max_completion_tokens"), req.get("max_tokens")) {
        (Some(v), _) if !v.is_null() => Some(want_u64(v, "max_completion_tokens")?),
        (_, Some(v)) if !v.is_null() => Some(want_u64(v, "max_tokens")?),
        _ => None,
    };
    if let Some(t) = req.get("temperature").filter(|v| !v.is_null()) {
        inference.insert(
            "temperature".into(),
            Value::from(want_f64(t, "temperature", 0.0, 2.0, "0 to 2")?),
        );
    }
    if let Some(p) = req.get("top_p").filter(|v| !v.is_null()) {
        inference.insert("topP".into(), Value::from(want_f64(p, "top_p", 0.0, 1.0, "0 to 1")?));
    }
    match req.get("stop") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            inference.insert("stopSequences".into(), Value::Array(vec![str_value(s)]));
        }
        Some(Value::Array(a)) => {
            let mut seqs = Vec::with_capacity(a.len());
            for s in a {
                seqs.push(want_str(s, "stop")?);
            }
            if !seqs.is_empty() {
                inference.insert(
                    "stopSequences".into(),
                    Value::Array(seqs.into_iter().map(str_value).collect()),
                );
            }
        }
        Some(other) => {
            return Err(bad(
                "stop",
                format!(
                    "`stop` must be a string or an array of strings, not {}",
                    type_name(other)
                ),
            ))
        }
    }

    // Reasoning controls.
    let mut additional = Map::new();
    let mut budget = None;
    if let Some(t) = req.get("thinking").filter(|v| !v.is_null()) {
        let o = want_obj(t, "thinking")?;
        budget = o.get("budget_tokens").and_then(Value::as_u64);
        additional.insert("thinking".into(), t.clone());
    } else if let Some(e) = req.get("reasoning_effort").filter(|v| !v.is_null()) {
        let effort = want_str(e, "reasoning_effort")?;
        if !matches!(effort, "none" | "minimal" | "low" | "medium" | "high") {
            return Err(bad(
                "reasoning_effort",
                "`reasoning_effort` must be one of none, minimal, low, medium, high",
            ));
        }
        match reasoning_family(&model_id) {
            _ if effort == "none" => {}
            ReasoningFamily::Claude => {
                let b = thinking_budget(effort).unwrap_or(1024);
                budget = Some(b);
                additional.insert("thinking".into(), obj([("type", str_value("enabled")), ("budget_tokens", Value::from(b))]));
            }
            ReasoningFamily::GptOss => {
                let level = if effort == "minimal" { "low" } else { effort };
                additional.insert("reasoning_effort".into(), str_value(level));
            }
            ReasoningFamily::Qwen => {
                let level = if effort == "minimal" { "low" } else { effort };
                additional.insert("reasoning_config".into(), str_value(level));
            }
            ReasoningFamily::Nova => {
                let level = if effort == "minimal" { "low" } else { effort };
                additional.insert("reasoningConfig".into(), obj([("type", str_value("enabled")), ("maxReasoningEffort", str_value(level))]));
            }
            ReasoningFamily::AlwaysOn => {}
            ReasoningFamily::Other if drop => {}
            ReasoningFamily::Other => {
                return Err(bad("reasoning_effort", format!("`reasoning_effort` is not supported for model {model_id}; send a `thinking` object to pass model-specific fields"))
                    .with_code("unsupported_parameter"))
            }
        }
    }
    let max_tokens = match (budget, max_tokens) {
        (Some(b), None) => Some(b.saturating_add(ANSWER_TOKENS_ABOVE_BUDGET)),
        (Some(b), Some(m)) if m <= b => Some(b.saturating_add(m)),
        (_, m) => m,
    };
    if let Some(m) = max_tokens {
        inference.insert("maxTokens".into(), Value::from(m.min(MAX_TOKENS_LIMIT)));
    }

    // Tools and response_format.
    let mut tool_config = tools::translate(req, cfg, &conv)?;
    let json_tool = match req.get("response_format").filter(|v| !v.is_null()) {
        None => None,
        Some(rf) => tools::response_format(rf, &mut tool_config)?,
    };
    // Bedrock refuses extended thinking together with a forced tool ("Thinking may not be enabled
    // when tool_choice forces tool use"). The response_format tool is then offered with `auto`
    // (its description asks for the JSON answer); a client's own forced choice is refused, or
    // relaxed to `auto` with `unsupported_params: "drop"`.
    let thinking_on = additional
        .get("thinking")
        .is_some_and(|t| t.get("type").and_then(Value::as_str) != Some("disabled"));
    if thinking_on {
        if let Some(tc) = tool_config.as_mut().and_then(Value::as_object_mut) {
            let forced = tc.get("toolChoice").and_then(Value::as_object).and_then(|c| {
                if c.contains_key("any") {
                    Some(None)
                } else {
                    c.get("tool")
                        .map(|t| t.get("name").and_then(Value::as_str).map(str::to_string))
                }
            });
            if let Some(name) = forced {
                let for_json = json_tool.is_some() && name.as_deref() == json_tool.as_deref();
                if !for_json && !drop {
                    return Err(bad(
                        "tool_choice",
                        "Bedrock does not allow a forced tool_choice (`required` or a named function) while \
                         extended thinking is on: use `auto`, or leave out reasoning_effort/thinking",
                    )
                    .with_code("unsupported_parameter"));
                }
                tc.insert("toolChoice".into(), obj([("auto", obj([]))]));
            }
        }
    }

    // Metadata.
    let mut request_metadata = Map::new();
    if let Some(u) = req.get("user").filter(|v| !v.is_null()) {
        let u = want_str(u, "user")?;
        metadata_text(u, "user", 0)?;
        request_metadata.insert("user".into(), str_value(u));
    }
    if let Some(m) = req.get("metadata").filter(|v| !v.is_null()) {
        for (k, val) in want_obj(m, "metadata")? {
            let param = format!("metadata.{k}");
            metadata_text(k, &param, 1)?;
            let v = want_str(val, &param)?;
            metadata_text(v, &param, 0)?;
            request_metadata.insert(k.clone(), str_value(v));
        }
    }
    if request_metadata.len() > MAX_METADATA_ENTRIES {
        return Err(bad(
            "metadata",
            "Bedrock accepts at most 16 requestMetadata entries (`metadata` pairs plus `user`)",
        ));
    }
    if let Some(p) = req.get("parallel_tool_calls").filter(|v| !v.is_null()) {
        want_bool(p, "parallel_tool_calls")?;
    }
    if let Some(s) = req.get("store").filter(|v| !v.is_null()) {
        if want_bool(s, "store")? && !drop {
            return Err(bad(
                "store",
                "`store: true` is not supported: the gateway keeps no completions",
            )
            .with_code("unsupported_parameter"));
        }
    }
    if let Some(s) = req.get("service_tier").filter(|v| !v.is_null()) {
        let tier = want_str(s, "service_tier")?;
        if !matches!(tier, "auto" | "default") && !drop {
            return Err(
                bad("service_tier", "only `auto` and `default` service tiers are supported")
                    .with_code("unsupported_parameter"),
            );
        }
    }

    out.insert("messages".into(), Value::Array(conv.messages));
    if !conv.system.is_empty() {
        out.insert("system".into(), Value::Array(conv.system));
    }
    if !inference.is_empty() {
        out.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if let Some(tc) = tool_config {
        out.insert("toolConfig".into(), tc);
    }
    if !additional.is_empty() {
        out.insert("additionalModelRequestFields".into(), Value::Object(additional));
    }
    if !request_metadata.is_empty() {
        out.insert("requestMetadata".into(), Value::Object(request_metadata));
    }
    if let Some(g) = &cfg.guardrail {
        let mut gc = Map::new();
        gc.insert("guardrailIdentifier".into(), str_value(&g.identifier));
        gc.insert("guardrailVersion".into(), str_value(&g.version));
        if let Some(t) = &g.trace {
            gc.insert("trace".into(), str_value(t));
        }
        if stream {
            if let Some(m) = &g.stream_processing_mode {
                gc.insert("streamProcessingMode".into(), str_value(m));
            }
        }
        out.insert("guardrailConfig".into(), Value::Object(gc));
    }

    let op = if stream { "converse-stream" } else { "converse" };
    let path = format!("/model/{}/{op}", encode_path_segment(&model_id));
    let body = serde_json::to_vec(&Value::Object(out)).map_err(|e| {
        ApiError::new(
            500,
            crate::error::ErrorType::Server,
            format!("could not encode the Bedrock request: {e}"),
        )
    })?;
    Ok(ChatRequest {
        client_model,
        model_id,
        stream,
        include_usage,
        path,
        body,
        json_tool,
        api: Api::Converse,
    })
}

/// Bedrock's OpenAI-compatible endpoint: the body stays OpenAI's, with the model mapped.
fn openai_passthrough(req: &Map<String, Value>, client_model: String, model_id: String) -> R<ChatRequest> {
    if !matches!(req.get("messages"), Some(Value::Array(m)) if !m.is_empty()) {
        return Err(bad("messages", "`messages` must be a non-empty array"));
    }
    let stream = matches!(req.get("stream"), Some(Value::Bool(true)));
    let mut body = req.clone();
    body.insert("model".into(), Value::String(model_id.clone()));
    let body = serde_json::to_vec(&Value::Object(body)).map_err(|e| {
        ApiError::new(
            500,
            crate::error::ErrorType::Server,
            format!("could not encode the request: {e}"),
        )
    })?;
    Ok(ChatRequest {
        client_model,
        model_id,
        stream,
        include_usage: false,
        path: OPENAI_PATH.to_string(),
        body,
        json_tool: None,
        api: Api::Openai,
    })
}

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

/// Conversation translation: roles, content parts, tool calls and results.
mod messages {
    use super::*;

    pub struct Conversation {
        pub system: Vec<Value>,
        pub messages: Vec<Value>,
        /// Names of the tools called in the history (Bedrock needs a spec for each).
        pub tool_names: Vec<String>,
    }

    fn has_cache_control(o: &Map<String, Value>) -> bool {
        o.get("cache_control").is_some_and(|c| !c.is_null())
    }

    fn cache_point() -> Value {
        obj([("cachePoint", obj([("type", str_value("default"))]))])
    }

    pub fn translate(messages: &[Value]) -> R<Conversation> {
        let mut conv = Conversation {
            system: Vec::new(),
            messages: Vec::new(),
            tool_names: Vec::new(),
        };
        // (role, blocks) with consecutive same-role turns merged: Bedrock needs alternation.
        let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let p = format!("messages[{i}]");
            let o = want_obj(m, &p)?;
            let role = match o.get("role") {
                Some(r) => want_str(r, &format!("{p}.role"))?,
                None => return Err(bad(format!("{p}.role"), format!("`{p}.role` is required"))),
            };
            let (bedrock_role, blocks) = match role {
                "system" | "developer" => {
                    let mut blocks = text_only(o.get("content"), &format!("{p}.content"), true)?;
                    if has_cache_control(o) {
                        blocks.push(cache_point());
                    }
                    conv.system.extend(blocks);
                    continue;
                }
                "user" => ("user", user_content(o.get("content"), &format!("{p}.content"))?),
                "assistant" => ("assistant", assistant_content(o, &p, &mut conv.tool_names)?),
                "tool" => ("user", vec![tool_result(o, &p)?]),
                "function" => {
                    return Err(bad(
                        format!("{p}.role"),
                        "the deprecated `function` role is not supported; use `tool` messages",
                    ))
                }
                other => {
                    return Err(bad(
                        format!("{p}.role"),
                        format!("`{p}.role` must be system, developer, user, assistant or tool, not {other:?}"),
                    ))
                }
            };
            let mut blocks = blocks;
            if has_cache_control(o) && !blocks.is_empty() {
                blocks.push(cache_point());
            }
            match turns.last_mut() {
                Some((r, existing)) if *r == bedrock_role => existing.extend(blocks),
                _ => turns.push((bedrock_role, blocks)),
            }
        }
        for (role, content) in turns {
            if content.is_empty() {
                return Err(bad("messages", format!("a {role} message has no content")));
            }
            conv.messages
                .push(obj([("role", str_value(role)), ("content", Value::Array(content))]));
        }
        Ok(conv)
    }

    /// Text content: a string or an array of text parts.
    fn text_only(content: Option<&Value>, p: &str, skip_empty: bool) -> R<Vec<Value>> {
        let mut out = Vec::new();
        match content {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                if !(skip_empty && s.is_empty()) {
                    out.push(obj([("text", str_value(s))]));
                }
            }
            Some(Value::Array(parts)) => {
                for (j, part) in parts.iter().enumerate() {
                    let pp = format!("{p}[{j}]");
                    let o = want_obj(part, &pp)?;
                    match o.get("type").and_then(Value::as_str) {
                        Some("text") => {
                            let t = want_str(o.get("text").unwrap_or(&Value::Null), &format!("{pp}.text"))?;
                            if !(skip_empty && t.is_empty()) {
                                out.push(obj([("text", str_value(t))]));
                            }
                            if has_cache_control(o) {
                                out.push(cache_point());
                            }
                        }
                        _ => return Err(bad(pp.clone(), format!("`{pp}` must be a text part here"))),
                    }
                }
            }
            Some(other) => {
                return Err(bad(
                    p,
                    format!(
                        "`{p}` must be a string or an array of content parts, not {}",
                        type_name(other)
                    ),
                ))
            }
        }
        Ok(out)
    }

    fn user_content(content: Option<&Value>, p: &str) -> R<Vec<Value>> {
        let parts = match content {
            Some(Value::Array(parts)) => parts,
            None | Some(Value::Null) => return Err(bad(p, format!("`{p}` is required for user messages"))),
            other => return text_only(other, p, false),
        };
        let mut out = Vec::with_capacity(parts.len());
        for (j, part) in parts.iter().enumerate() {
            let pp = format!("{p}[{j}]");
            let o = want_obj(part, &pp)?;
            let kind = want_str(o.get("type").unwrap_or(&Value::Null), &format!("{pp}.type"))?;
            match kind {
                "text" => {
                    let t = want_str(o.get("text").unwrap_or(&Value::Null), &format!("{pp}.text"))?;
                    out.push(obj([("text", str_value(t))]));
                }
                "image_url" => {
                    let iu = o.get("image_url").unwrap_or(&Value::Null);
                    let url = match iu {
                        Value::String(s) => s.as_str(),
                        Value::Object(m) => {
                            want_str(m.get("url").unwrap_or(&Value::Null), &format!("{pp}.image_url.url"))?
                        }
                        _ => {
                            return Err(bad(
                                format!("{pp}.image_url"),
                                format!("`{pp}.image_url` must have a `url`"),
                            ))
                        }
                    };
                    out.push(image_block(url, &pp)?);
                }
                "file" => out.push(file_block(o.get("file").unwrap_or(&Value::Null), &pp)?),
                "input_audio" => {
                    return Err(bad(pp, "audio input is not supported by Amazon Bedrock's Converse API")
                        .with_code("unsupported_content"))
                }
                other => {
                    return Err(bad(
                        pp.clone(),
                        format!("`{pp}.type` {other:?} is not a supported content part type"),
                    ))
                }
            }
            if has_cache_control(o) {
                out.push(cache_point());
            }
        }
        Ok(out)
    }

    /// `(mime type, base64 data)` of a `data:` URI.
    fn data_uri<'a>(url: &'a str, p: &str) -> R<(&'a str, &'a str)> {
        let rest = url
            .strip_prefix("data:")
            .ok_or_else(|| bad(p, "expected a data: URI"))?;
        let (meta, data) = rest.split_once(',').ok_or_else(|| bad(p, "malformed data: URI"))?;
        let mime = meta
            .strip_suffix(";base64")
            .ok_or_else(|| bad(p, "data: URIs must be base64-encoded (`data:<type>;base64,<data>`)"))?;
        if data.is_empty()
            || !data
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            return Err(bad(p, "the data: URI does not hold valid base64 data"));
        }
        Ok((mime, data))
    }

    fn image_block(url: &str, p: &str) -> R<Value> {
        if url.starts_with("http://") || url.starts_with("https://") {
            return Err(bad(
                format!("{p}.image_url"),
                "image URLs are not fetched by this gateway; send the image inline as a data URI (data:image/png;base64,...)",
            )
            .with_code("image_url_not_supported"));
        }
        let (mime, data) = data_uri(url, &format!("{p}.image_url"))?;
        let format = match mime.to_ascii_lowercase().as_str() {
            "image/png" => "png",
            "image/jpeg" | "image/jpg" => "jpeg",
            "image/gif" => "gif",
            "image/webp" => "webp",
            other => {
                return Err(bad(
                    format!("{p}.image_url"),
                    format!("image type {other:?} is not supported; use png, jpeg, gif or webp"),
                ))
            }
        };
        Ok(obj([(
            "image",
            obj([
                ("format", str_value(format)),
                ("source", obj([("bytes", str_value(data))])),
            ]),
        )]))
    }

    fn document_name(filename: Option<&str>) -> String {
        // Bedrock allows alphanumerics, single spaces, hyphens, parentheses and square brackets.
        let stem = filename
            .map(|f| f.rsplit_once('.').map(|(s, _)| s).unwrap_or(f))
            .unwrap_or("");
        let mut name = String::new();
        for c in stem.chars() {
            let c = if c.is_ascii_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']') {
                c
            } else {
                ' '
            };
            if !(c == ' ' && (name.is_empty() || name.ends_with(' '))) {
                name.push(c);
            }
        }
        let name = name.trim_end().chars().take(200).collect::<String>();
        if name.is_empty() {
            "document".to_string()
        } else {
            name
        }
    }

    fn file_block(f: &Value, p: &str) -> R<Value> {
        let o = want_obj(f, &format!("{p}.file"))?;
        if o.get("file_id").is_some_and(|v| !v.is_null()) {
            return Err(bad(
                format!("{p}.file.file_id"),
                "file ids are not supported (the gateway stores no files); send `file_data` as a data URI",
            ));
        }
        let data = want_str(
            o.get("file_data").unwrap_or(&Value::Null),
            &format!("{p}.file.file_data"),
        )?;
        let (mime, b64) = data_uri(data, &format!("{p}.file.file_data"))?;
        let format = match mime.to_ascii_lowercase().as_str() {
            "application/pdf" => "pdf",
            "text/plain" => "txt",
            "text/markdown" => "md",
            "text/csv" => "csv",
            "text/html" => "html",
            "application/msword" => "doc",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
            "application/vnd.ms-excel" => "xls",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
            other => {
                return Err(bad(
                    format!("{p}.file"),
                    format!(
                        "file type {other:?} is not supported; use PDF, text, markdown, CSV, HTML or Office documents"
                    ),
                ))
            }
        };
        let name = document_name(o.get("filename").and_then(Value::as_str));
        Ok(obj([(
            "document",
            obj([
                ("format", str_value(format)),
                ("name", Value::String(name)),
                ("source", obj([("bytes", str_value(b64))])),
            ]),
        )]))
    }

    fn assistant_content(o: &Map<String, Value>, p: &str, tool_names: &mut Vec<String>) -> R<Vec<Value>> {
        let mut out = Vec::new();
        // Reasoning blocks first, as Claude produced them (needed for thinking with tool use).
        if let Some(tb) = o.get("thinking_blocks").filter(|v| !v.is_null()) {
            for (j, b) in want_arr(tb, &format!("{p}.thinking_blocks"))?.iter().enumerate() {
                let bp = format!("{p}.thinking_blocks[{j}]");
                let bo = want_obj(b, &bp)?;
                match bo.get("type").and_then(Value::as_str) {
                    Some("thinking") => {
                        let text = want_str(bo.get("thinking").unwrap_or(&Value::Null), &format!("{bp}.thinking"))?;
                        let mut rt = Map::new();
                        rt.insert("text".into(), str_value(text));
                        if let Some(sig) = bo.get("signature").and_then(Value::as_str) {
                            rt.insert("signature".into(), str_value(sig));
                        }
                        out.push(obj([("reasoningContent", obj([("reasoningText", Value::Object(rt))]))]));
                    }
                    Some("redacted_thinking") => {
                        let data = want_str(bo.get("data").unwrap_or(&Value::Null), &format!("{bp}.data"))?;
                        out.push(obj([("reasoningContent", obj([("redactedContent", str_value(data))]))]));
                    }
                    _ => {
                        return Err(bad(
                            bp,
                            "thinking blocks must have type `thinking` or `redacted_thinking`",
                        ))
                    }
                }
            }
        }
        out.extend(text_only(o.get("content"), &format!("{p}.content"), true)?);
        if let Some(tc) = o.get("tool_calls").filter(|v| !v.is_null()) {
            for (j, call) in want_arr(tc, &format!("{p}.tool_calls"))?.iter().enumerate() {
                let cp = format!("{p}.tool_calls[{j}]");
                let co = want_obj(call, &cp)?;
                let id = want_str(co.get("id").unwrap_or(&Value::Null), &format!("{cp}.id"))?;
                let f = want_obj(co.get("function").unwrap_or(&Value::Null), &format!("{cp}.function"))?;
                let name = want_str(f.get("name").unwrap_or(&Value::Null), &format!("{cp}.function.name"))?;
                let args = match f.get("arguments") {
                    None | Some(Value::Null) => "{}",
                    Some(a) => want_str(a, &format!("{cp}.function.arguments"))?,
                };
                let input: Value = if args.trim().is_empty() {
                    Value::Object(Map::new())
                } else {
                    serde_json::from_str(args).map_err(|e| {
                        bad(
                            format!("{cp}.function.arguments"),
                            format!("`{cp}.function.arguments` is not valid JSON: {e}"),
                        )
                    })?
                };
                if !input.is_object() {
                    return Err(bad(
                        format!("{cp}.function.arguments"),
                        "tool call arguments must be a JSON object",
                    ));
                }
                if !tool_names.iter().any(|n| n == name) {
                    tool_names.push(name.to_string());
                }
                out.push(obj([(
                    "toolUse",
                    obj([
                        ("toolUseId", str_value(id)),
                        ("name", str_value(name)),
                        ("input", input),
                    ]),
                )]));
            }
        }
        Ok(out)
    }

    fn tool_result(o: &Map<String, Value>, p: &str) -> R<Value> {
        let id = want_str(
            o.get("tool_call_id").unwrap_or(&Value::Null),
            &format!("{p}.tool_call_id"),
        )?;
        let mut content = text_only(o.get("content"), &format!("{p}.content"), false)?;
        content.retain(|b| b.get("cachePoint").is_none());
        if content.is_empty() {
            content.push(obj([("text", str_value(""))]));
        }
        Ok(obj([(
            "toolResult",
            obj([("toolUseId", str_value(id)), ("content", Value::Array(content))]),
        )]))
    }
}

/// `tools`, `tool_choice` and `response_format` → `toolConfig`.
mod tools {
    use super::*;

    pub fn translate(req: &Map<String, Value>, cfg: &Config, conv: &messages::Conversation) -> R<Option<Value>> {
        let mut specs: Vec<Value> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        if let Some(t) = req.get("tools").filter(|v| !v.is_null()) {
            let list = want_arr(t, "tools")?;
            if list.len() > cfg.limits.max_tools {
                return Err(bad(
                    "tools",
                    format!(
                        "`tools` has {} entries; this gateway accepts at most {}",
                        list.len(),
                        cfg.limits.max_tools
                    ),
                ));
            }
            for (i, tool) in list.iter().enumerate() {
                let p = format!("tools[{i}]");
                let o = want_obj(tool, &p)?;
                match o.get("type").and_then(Value::as_str) {
                    Some("function") => {}
                    _ => {
                        return Err(bad(format!("{p}.type"), "only `function` tools are supported")
                            .with_code("unsupported_tool_type"))
                    }
                }
                let f = want_obj(o.get("function").unwrap_or(&Value::Null), &format!("{p}.function"))?;
                let name = want_str(f.get("name").unwrap_or(&Value::Null), &format!("{p}.function.name"))?;
                if name.is_empty()
                    || name.len() > 64
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return Err(bad(
                        format!("{p}.function.name"),
                        "tool names must be 1-64 characters of a-z, A-Z, 0-9, _ and -",
                    ));
                }
                let schema = match f.get("parameters") {
                    None | Some(Value::Null) => {
                        obj([("type", str_value("object")), ("properties", Value::Object(Map::new()))])
                    }
                    Some(s) => {
                        want_obj(s, &format!("{p}.function.parameters"))?;
                        s.clone()
                    }
                };
                let mut spec = Map::new();
                spec.insert("name".into(), str_value(name));
                if let Some(d) = f.get("description").filter(|v| !v.is_null()) {
                    let d = want_str(d, &format!("{p}.function.description"))?;
                    if !d.is_empty() {
                        spec.insert("description".into(), str_value(d));
                    }
                }
                spec.insert("inputSchema".into(), obj([("json", schema)]));
                specs.push(obj([("toolSpec", Value::Object(spec))]));
                if o.get("cache_control").is_some_and(|c| !c.is_null()) {
                    specs.push(obj([("cachePoint", obj([("type", str_value("default"))]))]));
                }
                names.push(name.to_string());
            }
        }

        let mut choice = None;
        let mut none = false;
        match req.get("tool_choice") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => match s.as_str() {
                "auto" => choice = Some(obj([("auto", Value::Object(Map::new()))])),
                "required" => choice = Some(obj([("any", Value::Object(Map::new()))])),
                "none" => none = true,
                other => {
                    return Err(bad(
                        "tool_choice",
                        format!("`tool_choice` must be auto, required, none or a function, not {other:?}"),
                    ))
                }
            },
            Some(Value::Object(o)) => {
                let f = want_obj(o.get("function").unwrap_or(&Value::Null), "tool_choice.function")?;
                let name = want_str(f.get("name").unwrap_or(&Value::Null), "tool_choice.function.name")?;
                if !names.iter().any(|n| n == name) {
                    return Err(bad(
                        "tool_choice",
                        format!("`tool_choice` names {name:?}, which is not in `tools`"),
                    ));
                }
                choice = Some(obj([("tool", obj([("name", str_value(name))]))]));
            }
            Some(other) => {
                return Err(bad(
                    "tool_choice",
                    format!("`tool_choice` must be a string or an object, not {}", type_name(other)),
                ))
            }
        }
        if choice.is_some() && specs.is_empty() {
            return Err(bad("tool_choice", "`tool_choice` needs `tools`"));
        }

        // Bedrock refuses toolUse/toolResult history without a toolConfig: declare the tools
        // called in the history that the request does not define, with an open schema.
        let history_uses_tools = !conv.tool_names.is_empty();
        for n in &conv.tool_names {
            if !names.iter().any(|m| m == n) {
                specs.push(obj([(
                    "toolSpec",
                    obj([
                        ("name", str_value(n)),
                        ("inputSchema", obj([("json", obj([("type", str_value("object"))]))])),
                    ]),
                )]));
            }
        }
        // `tool_choice: none`: Converse has no such choice, so the tools are not sent at all,
        // unless the history needs them (then the model may still call one).
        if none && !history_uses_tools {
            return Ok(None);
        }
        if specs.is_empty() {
            return Ok(None);
        }
        let mut tc = Map::new();
        tc.insert("tools".into(), Value::Array(specs));
        if let Some(c) = choice {
            tc.insert("toolChoice".into(), c);
        }
        Ok(Some(Value::Object(tc)))
    }

    /// `response_format` json_object / json_schema: force a tool whose input schema is the
    /// requested schema; its input becomes the message content.
    pub fn response_format(rf: &Value, tool_config: &mut Option<Value>) -> R<Option<String>> {
        let o = want_obj(rf, "response_format")?;
        let kind = want_str(o.get("type").unwrap_or(&Value::Null), "response_format.type")?;
        let (name, description, schema) = match kind {
            "text" => return Ok(None),
            "json_object" => (
                JSON_TOOL_NAME.to_string(),
                "Respond with a JSON object.".to_string(),
                obj([("type", str_value("object"))]),
            ),
            "json_schema" => {
                let js = want_obj(
                    o.get("json_schema").unwrap_or(&Value::Null),
                    "response_format.json_schema",
                )?;
                let name = match js.get("name") {
                    Some(n) => want_str(n, "response_format.json_schema.name")?.to_string(),
                    None => JSON_TOOL_NAME.to_string(),
                };
                if name.is_empty()
                    || name.len() > 64
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return Err(bad(
                        "response_format.json_schema.name",
                        "the schema name must be 1-64 characters of a-z, A-Z, 0-9, _ and -",
                    ));
                }
                let schema = match js.get("schema") {
                    None | Some(Value::Null) => obj([("type", str_value("object"))]),
                    Some(s) => {
                        want_obj(s, "response_format.json_schema.schema")?;
                        s.clone()
                    }
                };
                let description = js
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("Respond with JSON that matches this schema.")
                    .to_string();
                (name, description, schema)
            }
            other => {
                return Err(bad(
                    "response_format.type",
                    format!("`response_format.type` must be text, json_object or json_schema, not {other:?}"),
                ))
            }
        };
        let spec = obj([(
            "toolSpec",
            obj([
                ("name", str_value(&name)),
                ("description", Value::String(description)),
                ("inputSchema", obj([("json", schema)])),
            ]),
        )]);
        let tc = tool_config.get_or_insert_with(|| obj([("tools", Value::Array(Vec::new()))]));
        if let Some(tools) = tc.get_mut("tools").and_then(Value::as_array_mut) {
            if tools.iter().any(|t| t["toolSpec"]["name"] == name.as_str()) {
                return Err(bad(
                    "response_format",
                    format!("the response_format schema name {name:?} collides with a tool of the same name"),
                ));
            }
            tools.push(spec);
        }
        if let Some(m) = tc.as_object_mut() {
            m.insert("toolChoice".into(), obj([("tool", obj([("name", str_value(&name))]))]));
        }
        Ok(Some(name))
    }
}
