//! The Converse / ConverseStream request body, typed.
//!
//! Front doors build a [`ConverseRequest`]; [`ConverseRequest::to_json`] writes the wire body.
//! Struct fields are declared in the alphabetical order of their wire names, so the bytes are
//! the same as a `serde_json::Map` (sorted keys) would write: golden files stay stable.

use crate::error::{ApiError, ErrorType};
use serde::Serialize;
use serde_json::{Map, Value};

/// A Converse request. `model_id` is not part of the body: it goes into the path.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseRequest {
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) additional_model_request_fields: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guardrail_config: Option<GuardrailConfig>,
    #[serde(skip_serializing_if = "InferenceConfig::is_empty")]
    pub(crate) inference_config: InferenceConfig,
    pub(crate) messages: Vec<Message>,
    #[serde(skip)]
    pub model_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_config: Option<Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) request_metadata: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) service_tier: Option<ServiceTier>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) system: Vec<SystemBlock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_config: Option<ToolConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Message {
    pub(crate) content: Vec<ContentBlock>,
    pub(crate) role: Role,
}

/// One content block of a message: `{"text": …}`, `{"toolUse": {…}}`, ….
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ContentBlock {
    CachePoint(CachePoint),
    Document(DocumentBlock),
    Image(ImageBlock),
    ReasoningContent(Reasoning),
    Text(String),
    ToolResult(ToolResult),
    ToolUse(ToolUse),
}

/// `{"cachePoint": {"type": "default"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CachePoint {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
}

impl CachePoint {
    pub(crate) const DEFAULT: CachePoint = CachePoint { kind: "default" };
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Source {
    /// Base64, exactly as the client sent it.
    pub(crate) bytes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ImageBlock {
    /// png, jpeg, gif or webp.
    pub(crate) format: &'static str,
    pub(crate) source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct DocumentBlock {
    /// pdf, csv, doc, docx, xls, xlsx, html, txt or md.
    pub(crate) format: &'static str,
    pub(crate) name: String,
    pub(crate) source: Source,
}

/// Converse's image format for a MIME type.
pub(crate) fn image_format(mime: &str) -> Option<&'static str> {
    Some(match mime.to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => return None,
    })
}

/// Converse's document format for a MIME type.
pub(crate) fn document_format(mime: &str) -> Option<&'static str> {
    Some(match mime.to_ascii_lowercase().as_str() {
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        "text/markdown" => "md",
        "text/csv" => "csv",
        "text/html" => "html",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        _ => return None,
    })
}

/// A document name Bedrock accepts (alphanumerics, single spaces, `-()[]`), from a file name.
pub(crate) fn document_name(filename: Option<&str>) -> String {
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

/// `{"reasoningText": {"signature"?, "text"}}` or `{"redactedContent": "<base64>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Reasoning {
    ReasoningText {
        #[serde(skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        text: String,
    },
    RedactedContent(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUse {
    /// Always a JSON object.
    pub(crate) input: Value,
    pub(crate) name: String,
    pub(crate) tool_use_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolResult {
    pub(crate) content: Vec<ToolResultContent>,
    /// `success` or `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<&'static str>,
    pub(crate) tool_use_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ToolResultContent {
    Document(DocumentBlock),
    Image(ImageBlock),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum SystemBlock {
    CachePoint(CachePoint),
    Text(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InferenceConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) stop_sequences: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
}

impl InferenceConfig {
    pub(crate) fn is_empty(&self) -> bool {
        self.max_tokens.is_none()
            && self.stop_sequences.is_empty()
            && self.temperature.is_none()
            && self.top_p.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<ToolChoice>,
    pub(crate) tools: Vec<Tool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Tool {
    CachePoint(CachePoint),
    ToolSpec(ToolSpec),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) input_schema: InputSchema,
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) strict: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct InputSchema {
    pub(crate) json: Schema,
}

/// A tool's JSON schema: as read, or (a client's tool schema, opaque to the filter) the client's
/// own text, kept unread by the front door's JSON reader (`fastjson::read::parse_keeping`) and
/// sent as it is. The text is written by `fastjson` only ([`ConverseRequest::to_json`]): give
/// serde_json [`Schema::to_value`] instead (`fastjson::read::Kept` says why).
#[derive(Debug, Clone)]
pub(crate) enum Schema {
    Value(Value),
    Text(fastjson::read::Kept),
}

impl Schema {
    /// The schema as a `Value` (a kept text is read now).
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Schema::Value(v) => v.clone(),
            Schema::Text(t) => t.to_value(),
        }
    }
}

impl From<Value> for Schema {
    fn from(v: Value) -> Self {
        Schema::Value(v)
    }
}

impl Serialize for Schema {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Schema::Value(v) => v.serialize(s),
            Schema::Text(t) => t.serialize(s),
        }
    }
}

/// Equal when they are the same JSON (a kept text equals the value it reads as).
impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Schema::Value(a), Schema::Value(b)) => a == b,
            _ => self.to_value() == other.to_value(),
        }
    }
}

impl PartialEq<Value> for Schema {
    fn eq(&self, other: &Value) -> bool {
        match self {
            Schema::Value(v) => v == other,
            Schema::Text(_) => self.to_value() == *other,
        }
    }
}

/// An empty JSON object, `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub(crate) struct Empty {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ToolChoice {
    Any(Empty),
    Auto(Empty),
    Tool { name: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GuardrailConfig {
    pub(crate) guardrail_identifier: String,
    pub(crate) guardrail_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream_processing_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) trace: Option<String>,
}

/// `{"type": "flex" | "priority" | "default"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ServiceTier {
    #[serde(rename = "type")]
    pub(crate) kind: String,
}

impl ConverseRequest {
    /// `/model/{percent-encoded id}/converse` or `/converse-stream`.
    pub fn path(&self, stream: bool) -> String {
        let op = if stream { "converse-stream" } else { "converse" };
        format!("/model/{}/{op}", encode_path_segment(&self.model_id))
    }

    /// The wire body, as serde_json would write it, by [`fastjson::to_vec`] (compiled for speed;
    /// the conversation's text is scanned for escapes 16 bytes at a time).
    pub fn to_json(&self) -> Result<Vec<u8>, ApiError> {
        fastjson::to_vec(self, 8 << 10).map_err(|e| {
            ApiError::new(
                500,
                ErrorType::Server,
                format!("could not encode the Bedrock request: {e}"),
            )
        })
    }
}

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

/// A test turn: signed reasoning ("t", signature "s"), then one tool call.
#[cfg(test)]
pub(crate) fn thinking_tool_turn(tool_use_id: &str, name: &str, input: Value) -> Message {
    Message {
        role: Role::Assistant,
        content: vec![
            ContentBlock::ReasoningContent(Reasoning::ReasoningText {
                text: "t".into(),
                signature: Some("s".into()),
            }),
            ContentBlock::ToolUse(ToolUse {
                tool_use_id: tool_use_id.into(),
                name: name.into(),
                input,
            }),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shape_matches_converse() {
        let req = ConverseRequest {
            model_id: "us.anthropic.claude-sonnet-4-20250514-v1:0".into(),
            messages: vec![
                Message {
                    role: Role::User,
                    content: vec![
                        ContentBlock::Text("hi".into()),
                        ContentBlock::CachePoint(CachePoint::DEFAULT),
                    ],
                },
                thinking_tool_turn("a", "f", json!({})),
            ],
            tool_config: Some(ToolConfig {
                tools: vec![Tool::ToolSpec(ToolSpec {
                    name: "f".into(),
                    description: None,
                    input_schema: InputSchema {
                        json: json!({"type": "object"}).into(),
                    },
                    strict: None,
                })],
                tool_choice: Some(ToolChoice::Auto(Empty {})),
            }),
            ..Default::default()
        };
        let v: Value = serde_json::from_slice(&req.to_json().unwrap()).unwrap();
        assert_eq!(
            v,
            json!({
                "messages": [
                    {"role": "user", "content": [{"text": "hi"}, {"cachePoint": {"type": "default"}}]},
                    {"role": "assistant", "content": [
                        {"reasoningContent": {"reasoningText": {"text": "t", "signature": "s"}}},
                        {"toolUse": {"toolUseId": "a", "name": "f", "input": {}}}
                    ]}
                ],
                "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}],
                               "toolChoice": {"auto": {}}}
            })
        );
        assert_eq!(
            req.path(true),
            "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream"
        );
    }
}
