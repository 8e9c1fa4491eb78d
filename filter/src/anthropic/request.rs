//! Anthropic Messages request (`POST /v1/messages`) → a typed Bedrock Converse request.
//!
//! Every Bedrock model that Converse serves can be reached this way (Claude, Nova, Llama,
//! Mistral, gpt-oss, …): the Anthropic body is validated as Anthropic's API would, then mapped
//! field by field. What cannot be mapped is refused with a 400 naming the field (or dropped with
//! a log line where the configuration says `unsupported_params: drop`).

use super::thinking;
use crate::bedrock::build::{self, Conversation, ToolChoiceRequest};
use crate::bedrock::converse::{
    self, CachePoint, ContentBlock, ConverseRequest, DocumentBlock, ImageBlock, InferenceConfig, Message, Reasoning,
    Role, Source, SystemBlock, Tool, ToolResult, ToolResultContent, ToolUse,
};
use crate::bedrock::models::{self, JsonAnswer, ReasoningAsk, JSON_TOOL_NAME};
use crate::bedrock::pipeline::{self, Draft};
use crate::bedrock::thinking::Want;
use crate::config::{Config, UnsupportedParams};
use crate::error::ApiError;
use crate::front::fields::{self, given, given_mut, take_str, type_name, Path, Style, ToolEntry};
use base64::Engine;
use serde_json::{Map, Value};

type R<T> = Result<T, ApiError>;

/// A translated Messages request.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagesRequest {
    pub converse: ConverseRequest,
    pub stream: bool,
    pub(crate) client_model: String,
    /// Log lines for what the pipeline changed (`anthropic-beta` flags not forwarded, …).
    pub notes: Vec<String>,
    /// Top-level fields dropped: serving hints without a Converse equivalent
    /// (`context_management`, `output_config.effort`), and any unknown field under
    /// `unsupported_params: drop`.
    pub dropped_fields: Vec<String>,
}

/// Anthropic's field paths (`tools.0.name`) and wording (`tools.0.name: Field required`).
const A: Style = Style::Anthropic;

fn bad(param: impl Into<String>, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_param(param, msg)
}

fn want_f64(v: &Value, param: &str, hi: f64) -> R<f64> {
    match v.as_f64() {
        Some(x) if (0.0..=hi).contains(&x) => Ok(x),
        _ => Err(bad(param, format!("{param}: must be a number from 0 to {}", hi as u32))),
    }
}

fn want_tokens(v: &Value, param: &str) -> R<u64> {
    match v.as_u64() {
        Some(n) if (1..=models::MAX_TOKENS_LIMIT).contains(&n) => Ok(n),
        _ => Err(bad(param, format!("{param}: must be an integer from 1 to 2147483647"))),
    }
}

/// `cache_control` on a block: `{"type":"ephemeral", "ttl"?}` → a Converse cache point.
fn cache_control(o: &Map<String, Value>, p: &Path) -> R<bool> {
    match o.get("cache_control") {
        None | Some(Value::Null) => Ok(false),
        Some(c) => {
            let c = A.object(c, p.field("cache_control"))?;
            match c.get("type").and_then(Value::as_str) {
                Some("ephemeral") => Ok(true),
                _ => Err(bad(
                    format!("{p}.cache_control.type"),
                    format!("{p}.cache_control.type: must be \"ephemeral\""),
                )),
            }
        }
    }
}

/// What the translator does with each top-level field.
fn known_field(name: &str) -> Option<bool> {
    // Some(true): translated; Some(false): accepted and ignored (no Bedrock equivalent, no
    // effect on the answer's content); None: unknown.
    Some(match name {
        "model" | "messages" | "max_tokens" | "system" | "stream" | "temperature" | "top_p" | "top_k"
        | "stop_sequences" | "tools" | "tool_choice" | "thinking" | "metadata" | "service_tier" => true,
        _ => return None,
    })
}

/// Translate a Messages request body. `beta` is the `anthropic-beta` header.
pub fn translate(body: &[u8], cfg: &Config, beta: Option<&str>) -> R<MessagesRequest> {
    // Mutable: the conversation's text, tool inputs and results are moved out, not copied.
    let req = &mut fields::parse_body_keeping(body, Some(fields::MESSAGES_SCHEMAS))?;
    let drop = cfg.unsupported_params == UnsupportedParams::Drop;
    let model = fields::converse_model(req, cfg, A, "Messages API")?;
    let dropped_fields = check_fields(req, drop)?;
    let stream = match req.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(bad(
                "stream",
                format!("stream: must be a boolean, not {}", type_name(other)),
            ))
        }
    };
    let max_tokens = match given(req, "max_tokens") {
        None => return Err(bad("max_tokens", "max_tokens: Field required")),
        Some(m) => want_tokens(m, "max_tokens")?,
    };
    let (system, messages) = read_conversation(req, cfg)?;
    let mut inference_config = InferenceConfig {
        max_tokens: Some(max_tokens),
        ..Default::default()
    };
    let top_k = read_sampling(req, &mut inference_config)?;
    // `thinking` with `display`, and `output_config.effort` (what Claude Code sends).
    let ask = thinking::read(req, max_tokens)?;
    let thinking_on = !matches!(ask.want, Want::Unset | Want::Off);
    let reasoning = ReasoningAsk::Planned(ask);
    let (tools, tool_choice) = tools(req, cfg, thinking_on)?;
    let metadata = match given(req, "metadata") {
        Some(m) => read_metadata(m)?,
        None => Vec::new(),
    };
    check_service_tier(req)?;
    let output = read_output_format(req)?;
    let draft = Draft {
        converse: ConverseRequest {
            inference_config,
            messages,
            model_id: model.id,
            system,
            ..Default::default()
        },
        reasoning,
        reasoning_param: "thinking",
        tools,
        tool_choice,
        metadata,
        top_k,
        betas: beta
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
        output: output.map(|a| (a, OUTPUT_FORMAT)),
        stream,
    };
    let built = pipeline::finish(draft, cfg)?;
    if built.json_tool.is_some() {
        // The model has no native structured output: the pipeline's fallback (a forced answer
        // tool) would answer in a `tool_use` block, not the text block Anthropic's API returns.
        let e = A.bad(OUTPUT_FORMAT, "this model has no structured output on Bedrock");
        return Err(e.with_code("unsupported_parameter"));
    }
    Ok(MessagesRequest {
        converse: built.converse,
        stream,
        client_model: model.client,
        notes: built.notes,
        dropped_fields,
    })
}

/// Refuse unknown top-level fields (or drop them under `unsupported_params: drop`). Returns
/// the fields dropped.
fn check_fields(req: &Map<String, Value>, drop: bool) -> R<Vec<String>> {
    let mut dropped = Vec::new();
    for (k, val) in req {
        // Fields that only tune Anthropic's own serving and have no Converse equivalent: dropped
        // with a log line, never refused (Claude Code sends `context_management` and
        // `output_config.effort` on every request).
        let tuning = match k.as_str() {
            "context_management" => true,
            // `output_config.effort` is read with `thinking` ([`thinking::read`]),
            // `output_config.format` by [`read_output_format`].
            "output_config" => {
                if val.is_null()
                    || val
                        .as_object()
                        .is_some_and(|o| o.keys().all(|k| k == "effort" || k == "format"))
                {
                    continue;
                }
                false
            }
            _ => false,
        };
        if tuning {
            dropped.push(k.clone());
            continue;
        }
        if known_field(k).is_none() {
            if drop {
                dropped.push(k.clone());
            } else {
                return Err(bad(k.as_str(), format!("{k}: Extra inputs are not permitted")));
            }
        }
    }
    Ok(dropped)
}

const OUTPUT_FORMAT: &str = "output_config.format";

/// `output_config.format`, Anthropic's structured output: `{"type": "json_schema", "schema"}`,
/// a JSON answer in the text block, always held to the schema. It becomes Bedrock's native
/// structured output (`outputConfig.textFormat`, the pipeline's output format step) on models
/// that have it; the others are refused. Sources: Anthropic, "Structured outputs"
/// (build-with-claude/structured-outputs: `output_config.format`); Amazon Bedrock user guide,
/// "Get validated JSON results from models" (structured-output.html: `output_config.format` on
/// InvokeModel, `outputConfig.textFormat` on Converse).
fn read_output_format(req: &Map<String, Value>) -> R<Option<JsonAnswer>> {
    let Some(f) = given(req, "output_config").and_then(|o| given(A.object(o, "output_config").ok()?, "format")) else {
        return Ok(None);
    };
    let o = A.object(f, OUTPUT_FORMAT)?;
    let kind = A.string(o.get("type"), "output_config.format.type")?;
    if kind != "json_schema" {
        let what = format_args!("Input should be 'json_schema', not {kind:?}");
        return Err(A.bad("output_config.format.type", what));
    }
    if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "type" | "schema")) {
        return Err(A.bad(&format!("{OUTPUT_FORMAT}.{k}"), "Extra inputs are not permitted"));
    }
    let schema = match o.get("schema") {
        None => return Err(A.required("output_config.format.schema")),
        Some(s) => A.object(s, "output_config.format.schema")?.clone(),
    };
    Ok(Some(JsonAnswer {
        name: JSON_TOOL_NAME.to_string(),
        description: "Respond with JSON that matches this schema.".to_string(),
        schema: Value::Object(schema),
        strict: true,
    }))
}

/// `system` and `messages` → the Converse system blocks and messages (consecutive messages of
/// one role merged).
fn read_conversation(req: &mut Map<String, Value>, cfg: &Config) -> R<(Vec<SystemBlock>, Vec<Message>)> {
    let mut conv = Conversation::new();
    if let Some(s) = given_mut(req, "system") {
        system_blocks(s, &Path::Top("system"), &mut conv.system)?;
    }
    let messages = match given_mut(req, "messages") {
        None => return Err(bad("messages", "messages: Field required")),
        Some(m) => A.array_mut(m, "messages")?,
    };
    if messages.len() > cfg.limits.max_messages {
        return Err(bad(
            "messages",
            format!(
                "messages: {} entries; this gateway accepts at most {}",
                messages.len(),
                cfg.limits.max_messages
            ),
        ));
    }
    let top = Path::Top("messages");
    for (i, m) in messages.iter_mut().enumerate() {
        read_message(m, &top.at(i, A), &mut conv)?;
    }
    let (system, messages) = conv.finish()?;
    if messages.is_empty() {
        return Err(bad("messages", "messages: at least one message is required"));
    }
    if let Some(m) = messages
        .iter()
        .find(|m| m.content.iter().all(|b| matches!(b, ContentBlock::CachePoint(_))))
    {
        let role = if m.role == Role::User { "user" } else { "assistant" };
        return Err(bad("messages", format!("messages: a {role} message has no content")));
    }
    Ok((system, messages))
}

/// One entry of `messages` (at path `p`).
fn read_message(m: &mut Value, p: &Path, conv: &mut Conversation) -> R<()> {
    let o = A.object_mut(m, p)?;
    let role = match A.string(o.get("role"), p.field("role"))? {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        // Claude Code sends system reminders as `role: "system"` entries: they join the
        // system prompt.
        "system" => {
            return match o.get_mut("content") {
                Some(c) => system_blocks(c, &p.field("content"), &mut conv.system),
                None => Err(bad(format!("{p}.content"), format!("{p}.content: Field required"))),
            }
        }
        other => {
            return Err(bad(
                format!("{p}.role"),
                format!("{p}.role: must be \"user\" or \"assistant\", not {other:?}"),
            ))
        }
    };
    let blocks = content_blocks(o.get_mut("content"), &p.field("content"), role)?;
    conv.push(role, blocks);
    Ok(())
}

/// `temperature`, `top_p` (Anthropic's 0 to 1) and `stop_sequences` into `ic`; `top_k` returned
/// (the pipeline puts it in the model's field).
fn read_sampling(req: &Map<String, Value>, ic: &mut InferenceConfig) -> R<Option<u64>> {
    if let Some(t) = given(req, "temperature") {
        ic.temperature = Some(want_f64(t, "temperature", 1.0)?);
    }
    if let Some(t) = given(req, "top_p") {
        ic.top_p = Some(want_f64(t, "top_p", 1.0)?);
    }
    let top_k = match given(req, "top_k") {
        Some(k) => Some(
            k.as_u64()
                .filter(|k| *k >= 1 && *k <= 500)
                .ok_or_else(|| bad("top_k", "top_k: must be an integer from 1 to 500"))?,
        ),
        None => None,
    };
    if let Some(s) = given(req, "stop_sequences") {
        for (i, seq) in A.array(s, "stop_sequences")?.iter().enumerate() {
            let seq = A.string(Some(seq), &format!("stop_sequences.{i}"))?;
            if seq.is_empty() {
                return Err(bad("stop_sequences", "stop_sequences: entries must be non-empty"));
            }
            ic.stop_sequences.push(seq.to_string());
        }
    }
    Ok(top_k)
}

/// `metadata`: `user_id` only (Anthropic's API), at most 256 characters; the pipeline cleans
/// it into Bedrock's character set (Claude Code sends JSON).
fn read_metadata(m: &Value) -> R<pipeline::Metadata> {
    let mut out = Vec::new();
    for (k, val) in A.object(m, "metadata")? {
        if k != "user_id" {
            return Err(bad(
                format!("metadata.{k}"),
                format!("metadata.{k}: Extra inputs are not permitted"),
            ));
        }
        if val.is_null() {
            continue;
        }
        let u = A.string(Some(val), "metadata.user_id")?;
        if u.chars().count() > 256 {
            return Err(bad("metadata.user_id", "metadata.user_id: at most 256 characters"));
        }
        out.push(("user_id".to_string(), u.to_string()));
    }
    Ok(out)
}

/// `service_tier`: checked, not forwarded (Bedrock serves the standard tier).
fn check_service_tier(req: &Map<String, Value>) -> R<()> {
    match given(req, "service_tier").map(Value::as_str) {
        None | Some(Some("auto")) | Some(Some("standard_only")) => Ok(()),
        _ => Err(bad(
            "service_tier",
            "service_tier: must be \"auto\" or \"standard_only\"",
        )),
    }
}

/// `system` (a string or text blocks) → Converse system blocks.
fn system_blocks(s: &mut Value, p: &Path, out: &mut Vec<SystemBlock>) -> R<()> {
    match s {
        Value::String(t) => {
            if !t.is_empty() {
                out.push(SystemBlock::Text(std::mem::take(t)));
            }
        }
        Value::Array(blocks) => {
            for (i, b) in blocks.iter_mut().enumerate() {
                let bp = p.at(i, A);
                let o = A.object_mut(b, bp)?;
                match o.get("type").and_then(Value::as_str) {
                    Some("text") => {}
                    _ => {
                        return Err(bad(
                            format!("{bp}.type"),
                            format!("{bp}.type: system blocks must be \"text\""),
                        ))
                    }
                }
                out.push(SystemBlock::Text(take_nonempty_text(o, &bp)?));
                if cache_control(o, &bp)? {
                    out.push(SystemBlock::CachePoint(CachePoint::DEFAULT));
                }
            }
        }
        other => {
            return Err(bad(
                p,
                format!(
                    "{p}: must be a string or an array of text blocks, not {}",
                    type_name(other)
                ),
            ))
        }
    }
    Ok(())
}

fn base64_source(o: &Map<String, Value>, p: &Path) -> R<(String, String)> {
    let src = A.object(o.get("source").unwrap_or(&Value::Null), p.field("source"))?;
    let kind = A.string(src.get("type"), p.field("source.type"))?;
    match kind {
        "base64" => {
            let media = A.string(src.get("media_type"), p.field("source.media_type"))?;
            let data = A.string(src.get("data"), p.field("source.data"))?;
            if data.is_empty() || base64::engine::general_purpose::STANDARD.decode(data).is_err() {
                return Err(bad(
                    format!("{p}.source.data"),
                    format!("{p}.source.data: must be base64"),
                ));
            }
            Ok((media.to_string(), data.to_string()))
        }
        "text" => {
            let data = A.string(src.get("data"), p.field("source.data"))?;
            if data.is_empty() {
                return Err(bad(
                    format!("{p}.source.data"),
                    format!("{p}.source.data: must be non-empty"),
                ));
            }
            Ok((
                "text/plain".to_string(),
                base64::engine::general_purpose::STANDARD.encode(data.as_bytes()),
            ))
        }
        "url" | "file" => Err(bad(
            format!("{p}.source.type"),
            format!("{p}.source.type: {kind:?} sources are not supported by Bedrock; send the data as base64"),
        )),
        other => Err(bad(
            format!("{p}.source.type"),
            format!("{p}.source.type: unknown source type {other:?}"),
        )),
    }
}

fn image(o: &Map<String, Value>, p: &Path) -> R<ImageBlock> {
    let (media, data) = base64_source(o, p)?;
    let format = converse::image_format(&media).ok_or_else(|| {
        bad(
            format!("{p}.source.media_type"),
            format!("{p}.source.media_type: must be image/jpeg, image/png, image/gif or image/webp"),
        )
    })?;
    Ok(ImageBlock {
        format,
        source: Source { bytes: data },
    })
}

fn document(o: &Map<String, Value>, p: &Path) -> R<DocumentBlock> {
    let (media, data) = base64_source(o, p)?;
    let format = converse::document_format(&media).ok_or_else(|| {
        bad(
            format!("{p}.source.media_type"),
            format!("{p}.source.media_type: {media:?} is not a document type Bedrock reads (pdf, txt, md, csv, html, doc(x), xls(x))"),
        )
    })?;
    let title = match o.get("title") {
        Some(Value::String(t)) => Some(t.as_str()),
        _ => None,
    };
    Ok(DocumentBlock {
        format,
        name: converse::document_name(title),
        source: Source { bytes: data },
    })
}

/// One message's content → Converse content blocks (cache points after blocks with
/// `cache_control`).
fn content_blocks(content: Option<&mut Value>, p: &Path, role: Role) -> R<Vec<ContentBlock>> {
    let blocks = match content {
        None | Some(Value::Null) => return Err(bad(p, format!("{p}: Field required"))),
        Some(Value::String(s)) => {
            if s.is_empty() && role == Role::User {
                return Err(bad(p, format!("{p}: user messages must have non-empty content")));
            }
            return Ok(if s.is_empty() {
                Vec::new()
            } else {
                vec![ContentBlock::Text(std::mem::take(s))]
            });
        }
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(bad(
                p,
                format!(
                    "{p}: must be a string or an array of content blocks, not {}",
                    type_name(other)
                ),
            ))
        }
    };
    let mut out = Vec::with_capacity(blocks.len());
    for (i, b) in blocks.iter_mut().enumerate() {
        let bp = p.at(i, A);
        let o = A.object_mut(b, bp)?;
        out.push(content_block(o, &bp, role)?);
        if cache_control(o, &bp)? {
            out.push(build::cache_point());
        }
    }
    Ok(out)
}

/// One content block (at path `bp`) of a `role` message.
fn content_block(o: &mut Map<String, Value>, bp: &Path, role: Role) -> R<ContentBlock> {
    // Owned: the arms move values out of `o`.
    let kind = A.string(o.get("type"), bp.field("type"))?.to_string();
    Ok(match kind.as_str() {
        "text" => ContentBlock::Text(take_nonempty_text(o, bp)?),
        "image" => ContentBlock::Image(image(o, bp)?),
        "document" => ContentBlock::Document(document(o, bp)?),
        "tool_use" => ContentBlock::ToolUse(tool_use_block(o, bp, role)?),
        "tool_result" => ContentBlock::ToolResult(tool_result_block(o, bp, role)?),
        "thinking" => ContentBlock::ReasoningContent(thinking_block(o, bp)?),
        "redacted_thinking" => {
            let data = A.string(o.get("data"), bp.field("data"))?;
            ContentBlock::ReasoningContent(Reasoning::RedactedContent(data.to_string()))
        }
        other => {
            return Err(bad(
                format!("{bp}.type"),
                format!("{bp}.type: {other:?} blocks are not supported through Bedrock Converse"),
            ))
        }
    })
}

/// The `text` of a text block, which must not be empty, moved out of the block.
fn take_nonempty_text(o: &mut Map<String, Value>, bp: &Path) -> R<String> {
    let t = A.string(o.get("text"), bp.field("text"))?;
    if t.is_empty() {
        return Err(bad(
            format!("{bp}.text"),
            format!("{bp}.text: text content blocks must be non-empty"),
        ));
    }
    Ok(take_str(o.get_mut("text")))
}

/// A `tool_use` block (assistant messages only); a missing `input` is `{}`.
fn tool_use_block(o: &mut Map<String, Value>, bp: &Path, role: Role) -> R<ToolUse> {
    if role != Role::Assistant {
        return Err(bad(
            format!("{bp}.type"),
            format!("{bp}: tool_use blocks belong in assistant messages"),
        ));
    }
    let tool_use_id = A.string(o.get("id"), bp.field("id"))?.to_string();
    let name = A.string(o.get("name"), bp.field("name"))?.to_string();
    let input = match o.get_mut("input") {
        Some(Value::Object(m)) => Value::Object(std::mem::take(m)),
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(other) => {
            return Err(bad(
                format!("{bp}.input"),
                format!("{bp}.input: must be an object, not {}", type_name(other)),
            ))
        }
    };
    Ok(ToolUse {
        input,
        name,
        tool_use_id,
    })
}

/// A `tool_result` block (user messages only).
fn tool_result_block(o: &mut Map<String, Value>, bp: &Path, role: Role) -> R<ToolResult> {
    if role != Role::User {
        return Err(bad(
            format!("{bp}.type"),
            format!("{bp}: tool_result blocks belong in user messages"),
        ));
    }
    let tool_use_id = A.string(o.get("tool_use_id"), bp.field("tool_use_id"))?.to_string();
    let is_error = match o.get("is_error") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(bad(
                format!("{bp}.is_error"),
                format!("{bp}.is_error: must be a boolean"),
            ))
        }
    };
    Ok(ToolResult {
        content: tool_result_content(o.get_mut("content"), &bp.field("content"))?,
        status: is_error.then_some("error"),
        tool_use_id,
    })
}

/// A `thinking` block: its text and signature (an empty signature is none).
fn thinking_block(o: &mut Map<String, Value>, bp: &Path) -> R<Reasoning> {
    A.string(o.get("thinking"), bp.field("thinking"))?;
    let signature = match o.get("signature") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        None | Some(Value::Null) | Some(Value::String(_)) => None,
        Some(_) => {
            return Err(bad(
                format!("{bp}.signature"),
                format!("{bp}.signature: must be a string"),
            ))
        }
    };
    Ok(Reasoning::ReasoningText {
        signature,
        text: take_str(o.get_mut("thinking")),
    })
}

fn tool_result_content(c: Option<&mut Value>, p: &Path) -> R<Vec<ToolResultContent>> {
    let mut out = Vec::new();
    match c {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            if !s.is_empty() {
                out.push(ToolResultContent::Text(std::mem::take(s)));
            }
        }
        Some(Value::Array(a)) => {
            for (i, b) in a.iter_mut().enumerate() {
                let bp = p.at(i, A);
                let o = A.object_mut(b, bp)?;
                match A.string(o.get("type"), bp.field("type"))? {
                    "text" => {
                        if !A.string(o.get("text"), bp.field("text"))?.is_empty() {
                            out.push(ToolResultContent::Text(take_str(o.get_mut("text"))));
                        }
                    }
                    "image" => out.push(ToolResultContent::Image(image(o, &bp)?)),
                    "document" => out.push(ToolResultContent::Document(document(o, &bp)?)),
                    other => {
                        return Err(bad(
                            format!("{bp}.type"),
                            format!("{bp}.type: {other:?} is not supported inside tool_result"),
                        ))
                    }
                }
            }
        }
        Some(other) => {
            return Err(bad(
                p,
                format!("{p}: must be a string or an array, not {}", type_name(other)),
            ))
        }
    }
    // Converse needs at least one content block in a tool result; an empty result (a command
    // that printed nothing) is sent as an empty text.
    if out.is_empty() {
        out.push(ToolResultContent::Text(String::new()));
    }
    Ok(out)
}

/// `tools` + `tool_choice`. A forced choice with thinking on is refused as Anthropic's API
/// refuses it.
fn tools(req: &mut Map<String, Value>, cfg: &Config, thinking_on: bool) -> R<(Vec<Tool>, ToolChoiceRequest)> {
    let specs = fields::tools(req, cfg.limits.max_tools, A, tool_entry)?;
    let choice = match given(req, "tool_choice") {
        Some(c) => tool_choice(c, &specs)?,
        None => ToolChoiceRequest::Unset,
    };
    if matches!(choice, ToolChoiceRequest::Required | ToolChoiceRequest::Named(_)) && thinking_on {
        return Err(bad(
            "tool_choice",
            "Thinking may not be enabled when tool_choice forces tool use.",
        ));
    }
    if !matches!(choice, ToolChoiceRequest::Unset | ToolChoiceRequest::None) && specs.is_empty() {
        return Err(bad("tool_choice", "tool_choice: needs tools"));
    }
    Ok((specs, choice))
}

/// One entry of `tools` (at path `p`): a custom tool `{name, description?, input_schema}`.
fn tool_entry(o: &mut Map<String, Value>, p: &Path) -> R<Option<ToolEntry>> {
    match o.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "custom" => {}
        Some(other) => {
            return Err(bad(
                format!("{p}.type"),
                format!(
                    "{p}.type: Anthropic-defined tool {other} is not available through Bedrock Converse; \
                     define it as a custom tool"
                ),
            ))
        }
    }
    Ok(Some(ToolEntry {
        spec: fields::tool_spec(o, p, "input_schema", true, A)?,
        cache_point: cache_control(o, p)?,
    }))
}

/// `tool_choice`: `auto`, `any`, `tool` (a tool in `tools`) or `none`.
fn tool_choice(c: &Value, tools: &[Tool]) -> R<ToolChoiceRequest> {
    let o = A.object(c, "tool_choice")?;
    if given(o, "disable_parallel_tool_use").is_some_and(|d| !d.is_boolean()) {
        return Err(bad(
            "tool_choice.disable_parallel_tool_use",
            "tool_choice.disable_parallel_tool_use: must be a boolean",
        ));
    }
    Ok(match A.string(o.get("type"), "tool_choice.type")? {
        "auto" => ToolChoiceRequest::Auto,
        "any" => ToolChoiceRequest::Required,
        "tool" => {
            let name = A.string(o.get("name"), "tool_choice.name")?;
            if !tools.iter().any(|t| matches!(t, Tool::ToolSpec(s) if s.name == name)) {
                return Err(bad(
                    "tool_choice.name",
                    format!("tool_choice.name: {name:?} is not in tools"),
                ));
            }
            ToolChoiceRequest::Named(name.to_string())
        }
        "none" => ToolChoiceRequest::None,
        other => {
            return Err(bad(
                "tool_choice.type",
                format!("tool_choice.type: must be auto, any, tool or none, not {other:?}"),
            ))
        }
    })
}
