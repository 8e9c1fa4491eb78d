//! Converse request building shared by every front door (OpenAI chat completions, the Responses
//! API, Anthropic Messages).
//!
//! Each function takes plain Rust values (never a client API's JSON) plus `param`, the client-side
//! name of the field being built, used in the 400 the function answers when the value cannot be
//! sent to Bedrock. Bedrock's rules (reasoning fields, thinking budgets, forced tools while
//! thinking) are applied by [`super::pipeline`], not here.

use super::converse::{
    document_format, document_name, image_format, CachePoint, ContentBlock, DocumentBlock, Empty, GuardrailConfig,
    ImageBlock, InputSchema, Message, Role, Schema, Source, SystemBlock, Tool, ToolChoice, ToolConfig, ToolResult,
    ToolResultContent, ToolSpec, ToolUse,
};
use super::models::JsonAnswer;
use crate::config::Guardrail;
use crate::error::ApiError;
use serde_json::{Map, Value};
use std::fmt::Display;

type R<T> = Result<T, ApiError>;

/// A 400 naming `param` (a field path, written out only here: see `front::fields::Path`).
fn bad(param: &dyn Display, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_param(param.to_string(), msg)
}

/// `{"cachePoint": {"type": "default"}}` as a message content block.
pub(crate) fn cache_point() -> ContentBlock {
    ContentBlock::CachePoint(CachePoint::DEFAULT)
}

// ---------------------------------------------------------------------------------------------
// Conversation

/// Messages in the making: consecutive turns of the same role are merged (Bedrock needs
/// user/assistant alternation), system blocks are kept apart.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    pub system: Vec<SystemBlock>,
    turns: Vec<Message>,
}

impl Conversation {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Add one client message's blocks; merged into the previous turn when it has the same role.
    pub(crate) fn push(&mut self, role: Role, blocks: Vec<ContentBlock>) {
        match self.turns.last_mut() {
            Some(m) if m.role == role => m.content.extend(blocks),
            _ => self.turns.push(Message { role, content: blocks }),
        }
    }

    /// The system blocks and messages. Turns left without content (an assistant `content: ""`)
    /// are kept here and left out by [`super::repair::apply`], which also merges the neighbours.
    pub(crate) fn finish(self) -> R<(Vec<SystemBlock>, Vec<Message>)> {
        Ok((self.system, self.turns))
    }
}

/// `(mime type, base64 data)` of a `data:<type>;base64,<data>` URI; `param` names it in errors.
pub(crate) fn data_uri<'a>(url: &'a str, param: &dyn Display) -> R<(&'a str, &'a str)> {
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
pub(crate) fn image_block(mime: &str, base64: &str, param: &dyn Display) -> R<ImageBlock> {
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
pub(crate) fn document_block(
    mime: &str,
    base64: &str,
    filename: Option<&str>,
    param: &dyn Display,
) -> R<DocumentBlock> {
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
/// `{}`). Arguments that are not JSON at all become `{}`: a stream cut off at max tokens leaves
/// truncated arguments in the client's history, and the conversation must go on. Valid JSON that
/// is not an object is a 400 naming `param`; so is a tool name outside Bedrock's alphabet.
pub(crate) fn tool_use(id: &str, name: &str, arguments: &str, param: &dyn Display) -> R<ToolUse> {
    let input = match crate::front::fields::json_value(arguments.as_bytes()) {
        _ if arguments.trim().is_empty() => Value::Object(Map::new()),
        Ok(v) => v,
        Err(_) => Value::Object(Map::new()),
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

/// A `toolResult` block (an empty or blank result gets a placeholder text in
/// [`super::repair::apply`]: Bedrock refuses blank text).
pub(crate) fn tool_result(id: &str, content: Vec<ToolResultContent>) -> ContentBlock {
    ContentBlock::ToolResult(ToolResult {
        content,
        status: None,
        tool_use_id: id.to_string(),
    })
}

/// Bedrock's `redactedContent` (a blob: base64 in JSON) from a client's `redacted_thinking`
/// `data`. This filter returns Bedrock's base64 unchanged as `data`; LiteLLM returns it decoded
/// (Anthropic's own opaque string) and encodes it again on the way back. Both are accepted: data
/// that is standard base64 decoding to printable text is ours, passed as it is; anything else
/// (not base64, or decoding to binary, as Anthropic's encrypted string does) is LiteLLM's form
/// and is encoded.
pub(crate) fn redacted_content(data: &str) -> String {
    use base64::Engine;
    let ours = base64::engine::general_purpose::STANDARD
        .decode(data)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|t| !t.is_empty() && !t.chars().any(char::is_control));
    if ours {
        data.to_string()
    } else {
        base64::engine::general_purpose::STANDARD.encode(data)
    }
}

// ---------------------------------------------------------------------------------------------
// Tools

/// Bedrock's tool name alphabet, as error messages say it.
pub(crate) const TOOL_NAME_CHARS: &str = "1-64 characters of a-z, A-Z, 0-9, _ and -";

/// Bedrock's tool name alphabet: 1-64 characters of `a-zA-Z0-9_-`.
pub(crate) fn is_valid_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// 400 naming `param` unless `name` is a valid Bedrock tool name.
pub(crate) fn check_tool_name(name: &str, param: &dyn Display) -> R<()> {
    if !is_valid_tool_name(name) {
        return Err(bad(param, format!("tool names must be {TOOL_NAME_CHARS}")));
    }
    Ok(())
}

/// A tool spec for a client-defined function tool. `schema: None` means no parameters (an empty
/// object schema); an empty description is left out. `param` names the tool's name field.
pub(crate) fn function_tool(
    name: &str,
    description: Option<String>,
    schema: Option<Schema>,
    param: &dyn Display,
) -> R<ToolSpec> {
    check_tool_name(name, param)?;
    let schema = schema.unwrap_or_else(|| {
        let mut m = Map::new();
        m.insert("properties".into(), Value::Object(Map::new()));
        m.insert("type".into(), Value::String("object".into()));
        Schema::Value(Value::Object(m))
    });
    Ok(ToolSpec {
        description: description.filter(|d| !d.is_empty()),
        input_schema: InputSchema { json: schema },
        name: name.to_string(),
        strict: None,
    })
}

/// `{"type": "object"}`: the open schema of declared history tools and `json_object` answers.
pub(crate) fn open_object_schema() -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String("object".into()));
    Value::Object(m)
}

/// Force the tool whose input is a JSON answer: added to `tool_config` with the answer's schema
/// and chosen. Returns its name. A 400 naming `param` (the client's format field) when a tool of
/// the client's has the same name.
pub(crate) fn answer_tool(tool_config: &mut Option<ToolConfig>, answer: JsonAnswer, param: &str) -> R<String> {
    let tc = tool_config.get_or_insert_with(|| ToolConfig {
        tool_choice: None,
        tools: Vec::new(),
    });
    if tc
        .tools
        .iter()
        .any(|t| matches!(t, Tool::ToolSpec(s) if s.name == answer.name))
    {
        return Err(bad(
            &param,
            format!(
                "the {param} schema name {:?} collides with a tool of the same name",
                answer.name
            ),
        ));
    }
    tc.tools.push(Tool::ToolSpec(ToolSpec {
        description: Some(answer.description),
        input_schema: InputSchema {
            json: answer.schema.into(),
        },
        name: answer.name.clone(),
        strict: None,
    }));
    tc.tool_choice = Some(ToolChoice::Tool {
        name: answer.name.clone(),
    });
    Ok(answer.name)
}

/// What the client asked for with its tool choice, before it is checked against the tools.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum ToolChoiceRequest {
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

/// `toolConfig` from the client's tools (spec and cache point entries) and their choice.
///
/// Only the client's tools are declared. Bedrock refuses `toolUse`/`toolResult` history without
/// a `toolConfig`; when the client declares no tools (none sent, or `tool_choice: "none"`,
/// which Converse cannot express), [`super::repair::apply`] turns the history's tool calls and
/// results into text, so the model is offered no tool the client did not offer. Errors name
/// `tool_choice`.
pub(crate) fn tool_config(tools: Vec<Tool>, choice: ToolChoiceRequest) -> R<Option<ToolConfig>> {
    let defined = |n: &str| tools.iter().any(|t| matches!(t, Tool::ToolSpec(s) if s.name == n));
    let choice = match choice {
        ToolChoiceRequest::Unset => None,
        ToolChoiceRequest::Auto => Some(ToolChoice::Auto(Empty {})),
        ToolChoiceRequest::Required => Some(ToolChoice::Any(Empty {})),
        ToolChoiceRequest::None => return Ok(None),
        ToolChoiceRequest::Named(name) => {
            if !defined(&name) {
                return Err(bad(
                    &"tool_choice",
                    format!("`tool_choice` names {name:?}, which is not in `tools`"),
                ));
            }
            Some(ToolChoice::Tool { name })
        }
    };
    if choice.is_some() && tools.is_empty() {
        return Err(bad(&"tool_choice", "`tool_choice` needs `tools`"));
    }
    if tools.is_empty() {
        return Ok(None);
    }
    Ok(Some(ToolConfig {
        tool_choice: choice,
        tools,
    }))
}

// ---------------------------------------------------------------------------------------------
// Inference, metadata, guardrail

/// Bedrock's `requestMetadata` holds at most 16 entries.
pub(crate) const MAX_METADATA_ENTRIES: usize = 16;

fn metadata_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c.is_whitespace() || ":_@$#=/+,-.".contains(c)
}

/// One `requestMetadata` key or value in Bedrock's pattern (letters, digits, whitespace and
/// `:_@$#=/+,-.`, at most 256 characters): other characters become `_`, the rest is cut at 256.
/// `None` when nothing is left of a key. Metadata never fails a completion.
pub(crate) fn clean_metadata_text(s: &str, key: bool) -> Option<String> {
    let out: String = s
        .chars()
        .take(256)
        .map(|c| if metadata_char(c) { c } else { '_' })
        .collect();
    if key && out.is_empty() {
        return None;
    }
    Some(out)
}

/// Add one `requestMetadata` entry, cleaned ([`clean_metadata_text`]); a log line in `notes`
/// for what was changed or left out (Bedrock holds at most 16 entries).
pub(crate) fn add_metadata(out: &mut Map<String, Value>, key: &str, value: &str, notes: &mut Vec<String>) {
    let (Some(k), Some(v)) = (clean_metadata_text(key, true), clean_metadata_text(value, false)) else {
        notes.push("requestMetadata: an entry with an empty key was left out".into());
        return;
    };
    if out.len() >= MAX_METADATA_ENTRIES && !out.contains_key(&k) {
        notes.push(format!(
            "requestMetadata: entry {k:?} left out (Bedrock holds at most 16)"
        ));
        return;
    }
    if k != key || v != value {
        notes.push(format!(
            "requestMetadata: entry {k:?} cleaned into Bedrock's character set"
        ));
    }
    out.insert(k, Value::String(v));
}

/// `guardrailConfig` from the plugin configuration; the stream processing mode only on streams.
pub(crate) fn guardrail(g: &Guardrail, stream: bool) -> GuardrailConfig {
    GuardrailConfig {
        guardrail_identifier: g.identifier.clone(),
        guardrail_version: g.version.clone(),
        stream_processing_mode: if stream { g.stream_processing_mode.clone() } else { None },
        trace: g.trace.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tc: &Option<ToolConfig>) -> Vec<String> {
        tc.iter()
            .flat_map(|tc| &tc.tools)
            .filter_map(|t| match t {
                Tool::ToolSpec(s) => Some(s.name.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn answer_tool_is_forced_and_must_not_collide() {
        let answer = |name: &str| JsonAnswer {
            name: name.into(),
            description: "d".into(),
            schema: open_object_schema(),
            strict: false,
        };
        let mut tc = None;
        assert_eq!(answer_tool(&mut tc, answer("a"), "text.format").unwrap(), "a");
        assert_eq!(names(&tc), ["a"]);
        assert_eq!(
            tc.as_ref().and_then(|tc| tc.tool_choice.clone()),
            Some(ToolChoice::Tool { name: "a".into() })
        );
        let e = answer_tool(&mut tc, answer("a"), "text.format").unwrap_err();
        assert_eq!(e.param.as_deref(), Some("text.format"));
        assert_eq!(
            e.message,
            "the text.format schema name \"a\" collides with a tool of the same name"
        );
    }
}
