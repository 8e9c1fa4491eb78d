//! Converse request building shared by every front door (OpenAI chat completions today; the
//! Responses API and Anthropic Messages next).
//!
//! Each function takes plain Rust values (never a client API's JSON) plus `param`, the client-side
//! name of the field being built, used in the 400 the function answers when the value cannot be
//! sent to Bedrock. Model-family rules (reasoning fields, thinking budgets, forced tools while
//! thinking) live in [`super::models`], not here.

use super::converse::{
    document_format, document_name, image_format, CachePoint, ContentBlock, DocumentBlock, Empty, GuardrailConfig,
    ImageBlock, InferenceConfig, InputSchema, Message, Role, Source, SystemBlock, Tool, ToolChoice, ToolConfig,
    ToolResult, ToolResultContent, ToolSpec, ToolUse,
};
use super::models::{ANSWER_TOKENS_ABOVE_BUDGET, MAX_TOKENS_LIMIT};
use crate::config::Guardrail;
use crate::error::ApiError;
use serde_json::{Map, Value};

type R<T> = Result<T, ApiError>;

fn bad(param: impl Into<String>, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_param(param, msg)
}

/// `{"cachePoint": {"type": "default"}}` as a message content block.
pub fn cache_point() -> ContentBlock {
    ContentBlock::CachePoint(CachePoint::DEFAULT)
}

// ---------------------------------------------------------------------------------------------
// Conversation

/// Messages in the making: consecutive turns of the same role are merged (Bedrock needs
/// user/assistant alternation), system blocks are kept apart.
#[derive(Debug, Default)]
pub struct Conversation {
    pub system: Vec<SystemBlock>,
    turns: Vec<Message>,
}

impl Conversation {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one client message's blocks; merged into the previous turn when it has the same role.
    pub fn push(&mut self, role: Role, blocks: Vec<ContentBlock>) {
        match self.turns.last_mut() {
            Some(m) if m.role == role => m.content.extend(blocks),
            _ => self.turns.push(Message { role, content: blocks }),
        }
    }

    /// The messages; 400 (`param` `messages`) when a turn ended up with no content.
    pub fn finish(self) -> R<(Vec<SystemBlock>, Vec<Message>)> {
        if let Some(m) = self.turns.iter().find(|m| m.content.is_empty()) {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            return Err(bad("messages", format!("a {role} message has no content")));
        }
        Ok((self.system, self.turns))
    }
}

/// `(mime type, base64 data)` of a `data:<type>;base64,<data>` URI; `param` names it in errors.
pub fn data_uri<'a>(url: &'a str, param: &str) -> R<(&'a str, &'a str)> {
    let rest = url
        .strip_prefix("data:")
        .ok_or_else(|| bad(param, "expected a data: URI"))?;
    let (meta, data) = rest.split_once(',').ok_or_else(|| bad(param, "malformed data: URI"))?;
    let mime = meta
        .strip_suffix(";base64")
        .ok_or_else(|| bad(param, "data: URIs must be base64-encoded (`data:<type>;base64,<data>`)"))?;
    if data.is_empty()
        || !data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return Err(bad(param, "the data: URI does not hold valid base64 data"));
    }
    Ok((mime, data))
}

/// An image block from its MIME type and base64 bytes (png, jpeg, gif, webp).
pub fn image_block(mime: &str, base64: &str, param: &str) -> R<ImageBlock> {
    let format = image_format(mime).ok_or_else(|| {
        bad(
            param,
            format!(
                "image type {:?} is not supported; use png, jpeg, gif or webp",
                mime.to_ascii_lowercase()
            ),
        )
    })?;
    Ok(ImageBlock {
        format,
        source: Source {
            bytes: base64.to_string(),
        },
    })
}

/// A document block from its MIME type, base64 bytes and the client's file name (cleaned into a
/// name Bedrock accepts).
pub fn document_block(mime: &str, base64: &str, filename: Option<&str>, param: &str) -> R<DocumentBlock> {
    let format = document_format(mime).ok_or_else(|| {
        bad(
            param,
            format!(
                "file type {:?} is not supported; use PDF, text, markdown, CSV, HTML or Office documents",
                mime.to_ascii_lowercase()
            ),
        )
    })?;
    Ok(DocumentBlock {
        format,
        name: document_name(filename),
        source: Source {
            bytes: base64.to_string(),
        },
    })
}

/// A `toolUse` block from a historical tool call. `arguments` is the call's JSON text (empty means
/// `{}`); it must be a JSON object. `param` names the arguments field in errors.
pub fn tool_use(id: &str, name: &str, arguments: &str, param: &str) -> R<ToolUse> {
    let input: Value = if arguments.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str(arguments).map_err(|e| bad(param, format!("`{param}` is not valid JSON: {e}")))?
    };
    if !input.is_object() {
        return Err(bad(param, "tool call arguments must be a JSON object"));
    }
    Ok(ToolUse {
        input,
        name: name.to_string(),
        tool_use_id: id.to_string(),
    })
}

/// A `toolResult` block; an empty result becomes one empty text (Bedrock needs content).
pub fn tool_result(id: &str, mut content: Vec<ToolResultContent>) -> ContentBlock {
    if content.is_empty() {
        content.push(ToolResultContent::Text(String::new()));
    }
    ContentBlock::ToolResult(ToolResult {
        content,
        status: None,
        tool_use_id: id.to_string(),
    })
}

/// Names of the tools called (`toolUse`) in `messages`, first use first, each once.
pub fn history_tool_names(messages: &[Message]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for b in messages.iter().flat_map(|m| &m.content) {
        if let ContentBlock::ToolUse(u) = b {
            if !names.contains(&u.name) {
                names.push(u.name.clone());
            }
        }
    }
    names
}

// ---------------------------------------------------------------------------------------------
// Tools

/// Bedrock's tool name alphabet: 1-64 characters of `a-zA-Z0-9_-`.
pub fn is_valid_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// 400 naming `param` unless `name` is a valid Bedrock tool name.
pub fn check_tool_name(name: &str, param: &str) -> R<()> {
    if !is_valid_tool_name(name) {
        return Err(bad(
            param,
            "tool names must be 1-64 characters of a-z, A-Z, 0-9, _ and -",
        ));
    }
    Ok(())
}

/// A tool spec for a client-defined function tool. `schema: None` means no parameters (an empty
/// object schema); an empty description is left out. `param` names the tool's name field.
pub fn function_tool(name: &str, description: Option<&str>, schema: Option<Value>, param: &str) -> R<ToolSpec> {
    check_tool_name(name, param)?;
    let schema = schema.unwrap_or_else(|| {
        let mut m = Map::new();
        m.insert("properties".into(), Value::Object(Map::new()));
        m.insert("type".into(), Value::String("object".into()));
        Value::Object(m)
    });
    Ok(ToolSpec {
        description: description.filter(|d| !d.is_empty()).map(str::to_string),
        input_schema: InputSchema { json: schema },
        name: name.to_string(),
        strict: None,
    })
}

/// `{"type": "object"}`: the open schema of declared history tools and `json_object` answers.
pub fn open_object_schema() -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String("object".into()));
    Value::Object(m)
}

/// What the client asked for with its tool choice, before it is checked against the tools.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolChoiceRequest {
    /// Not given: Bedrock's default (auto) without sending a choice.
    #[default]
    Unset,
    Auto,
    /// Any tool (OpenAI `required`, Anthropic `any`).
    Required,
    /// No tool (Converse has no such choice: the tools are not sent).
    None,
    Named(String),
}

/// `toolConfig` from the client's tools (spec and cache point entries), their choice, and the
/// tools called in the conversation history.
///
/// Bedrock refuses `toolUse`/`toolResult` history without a `toolConfig`: each tool called in the
/// history that the request does not define is declared with an open schema. A `None` choice
/// sends no tools at all unless the history needs them (the model may then still call one).
/// Errors name `tool_choice`.
pub fn tool_config(tools: Vec<Tool>, choice: ToolChoiceRequest, history_tools: &[String]) -> R<Option<ToolConfig>> {
    let defined = |n: &str| tools.iter().any(|t| matches!(t, Tool::ToolSpec(s) if s.name == n));
    let mut none = false;
    let choice = match choice {
        ToolChoiceRequest::Unset => None,
        ToolChoiceRequest::Auto => Some(ToolChoice::Auto(Empty {})),
        ToolChoiceRequest::Required => Some(ToolChoice::Any(Empty {})),
        ToolChoiceRequest::None => {
            none = true;
            None
        }
        ToolChoiceRequest::Named(name) => {
            if !defined(&name) {
                return Err(bad(
                    "tool_choice",
                    format!("`tool_choice` names {name:?}, which is not in `tools`"),
                ));
            }
            Some(ToolChoice::Tool { name })
        }
    };
    if choice.is_some() && tools.is_empty() {
        return Err(bad("tool_choice", "`tool_choice` needs `tools`"));
    }
    let mut tools = tools;
    for n in history_tools {
        if !tools.iter().any(|t| matches!(t, Tool::ToolSpec(s) if &s.name == n)) {
            tools.push(Tool::ToolSpec(ToolSpec {
                description: None,
                input_schema: InputSchema {
                    json: open_object_schema(),
                },
                name: n.clone(),
                strict: None,
            }));
        }
    }
    if (none && history_tools.is_empty()) || tools.is_empty() {
        return Ok(None);
    }
    Ok(Some(ToolConfig {
        tool_choice: choice,
        tools,
    }))
}

// ---------------------------------------------------------------------------------------------
// Inference, metadata, guardrail

/// `inferenceConfig`. `max_tokens` is the client's answer limit; with a thinking `budget` the
/// model needs room for the answer above it: no limit becomes budget + 4096, a limit at or
/// below the budget becomes budget + limit. Clamped to Bedrock's 32-bit maximum.
pub fn inference_config(
    max_tokens: Option<u64>,
    thinking_budget: Option<u64>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    stop_sequences: Vec<String>,
) -> InferenceConfig {
    let max_tokens = match (thinking_budget, max_tokens) {
        (Some(b), None) => Some(b.saturating_add(ANSWER_TOKENS_ABOVE_BUDGET)),
        (Some(b), Some(m)) if m <= b => Some(b.saturating_add(m)),
        (_, m) => m,
    };
    InferenceConfig {
        max_tokens: max_tokens.map(|m| m.min(MAX_TOKENS_LIMIT)),
        stop_sequences,
        temperature,
        top_p,
    }
}

/// Bedrock's `requestMetadata` holds at most 16 entries.
pub const MAX_METADATA_ENTRIES: usize = 16;

/// Check one `requestMetadata` key or value: `min` to 256 characters of letters, digits,
/// whitespace and `:_@$#=/+,-.` (keys: min 1, values: min 0).
pub fn check_metadata_text(s: &str, param: &str, min: usize) -> R<()> {
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

/// Check the entry count of a finished `requestMetadata` map.
pub fn check_metadata_count(metadata: &Map<String, Value>) -> R<()> {
    if metadata.len() > MAX_METADATA_ENTRIES {
        return Err(bad(
            "metadata",
            "Bedrock accepts at most 16 requestMetadata entries (`metadata` pairs plus `user`)",
        ));
    }
    Ok(())
}

/// `guardrailConfig` from the plugin configuration; the stream processing mode only on streams.
pub fn guardrail(g: &Guardrail, stream: bool) -> GuardrailConfig {
    GuardrailConfig {
        guardrail_identifier: g.identifier.clone(),
        guardrail_version: g.version.clone(),
        stream_processing_mode: if stream { g.stream_processing_mode.clone() } else { None },
        trace: g.trace.clone(),
    }
}
