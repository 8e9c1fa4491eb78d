//! A chat-style client (OpenAI chat completions, the Responses API) reaching a Claude model
//! configured `api: mantle`: Bedrock Mantle serves Claude only through Anthropic's Messages API
//! (`/anthropic/v1/messages`; <https://docs.aws.amazon.com/bedrock/latest/userguide/bedrock-mantle.html>,
//! <https://docs.aws.amazon.com/bedrock/latest/userguide/inference-messages-api.html>).
//!
//! The front door translates the client's request as for Converse (same validation, repairs,
//! thinking and sampling rules); [`messages_body`] then writes that Converse request as an
//! Anthropic Messages body, and [`ClaudeReply`] reads Mantle's Anthropic answer back as Converse's
//! ([`super::messages_events`]), so the client's own writer, the meter and the budget apply
//! unchanged.
//!
//! Field by field (Anthropic Messages API, <https://docs.anthropic.com/en/api/messages>):
//! `system` and message content blocks map one to one (text, base64 image, PDF or plain-text
//! document, tool_use, tool_result, signed thinking, redacted_thinking); a Converse cache point
//! becomes `cache_control: {"type": "ephemeral"}` on the block before it; `inferenceConfig` →
//! `max_tokens` (required by Anthropic: the model's catalog output limit when the client sets
//! none), `temperature`, `top_p`, `stop_sequences`; `toolConfig` → `tools` / `tool_choice`;
//! `additionalModelRequestFields` are Claude's own body fields (`thinking`, `top_k`,
//! `output_config`) and go as they are, except `anthropic_beta`, which becomes the
//! `anthropic-beta` header; a native JSON answer (`outputConfig.textFormat`) becomes
//! `output_config.format` (<https://docs.anthropic.com/en/docs/build-with-claude/structured-outputs>);
//! `requestMetadata`'s `user` becomes `metadata.user_id`. Not sent (no Messages equivalent):
//! the configured guardrail, Converse's `serviceTier`, other request metadata.

use super::converse::{
    ContentBlock, ConverseRequest, DocumentBlock, ImageBlock, Reasoning, Role, SystemBlock, Tool, ToolChoice,
    ToolResultContent,
};
use super::events::EventSink;
use super::messages_events;
use crate::error::{ApiError, ErrorType};
use crate::front::{Outbound, Reply, RequestContext, Service};
use crate::meter::Answer;
use base64::Engine;
use serde_json::{json, Map, Value};

type R<T> = Result<T, ApiError>;

/// Mantle's path for Anthropic Messages.
pub const MESSAGES_PATH: &str = "/anthropic/v1/messages";

/// `max_tokens` when the client sets none and the catalog does not know the model's limit
/// (Anthropic requires the field).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// The Outbound request to Mantle's Messages API for a translated Converse request; `reply`
/// writes the client's API from Converse events / JSON.
pub fn outbound(
    converse: &ConverseRequest,
    stream: bool,
    ctx: &RequestContext<'_>,
    client_model: String,
    reply: Box<dyn Reply>,
    mut notes: Vec<String>,
) -> R<Outbound> {
    let max = match ctx.config.caps_for(&converse.model_id).max_output {
        0 => DEFAULT_MAX_TOKENS,
        n => u64::from(n),
    };
    let (body, betas) = messages_body(converse, stream, max, &mut notes)?;
    let version = (ctx.header)("anthropic-version")
        .filter(|v| super::passthrough::header_value(v))
        .unwrap_or_else(|| super::passthrough::ANTHROPIC_VERSION.into());
    let mut headers = vec![("anthropic-version", version)];
    if !betas.is_empty() {
        headers.push(("anthropic-beta", betas.join(",")));
    }
    Ok(Outbound {
        path: MESSAGES_PATH.to_string(),
        body,
        stream,
        client_model,
        model_id: converse.model_id.clone(),
        reply: Box::new(ClaudeReply { inner: reply }),
        notes,
        service: Service::Mantle,
        headers,
    })
}

/// The Anthropic Messages body for `req` (and the `anthropic-beta` flags it carries). `max` is
/// `max_tokens` when the request has none.
pub fn messages_body(
    req: &ConverseRequest,
    stream: bool,
    max: u64,
    notes: &mut Vec<String>,
) -> R<(Vec<u8>, Vec<String>)> {
    let mut body = Map::new();
    let mut betas = Vec::new();
    for (k, v) in &req.additional_model_request_fields {
        if k == "anthropic_beta" {
            betas.extend(
                v.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(String::from),
            );
        } else {
            body.insert(k.clone(), v.clone());
        }
    }
    body.insert("model".into(), Value::String(req.model_id.clone()));
    let ic = &req.inference_config;
    body.insert("max_tokens".into(), Value::from(ic.max_tokens.unwrap_or(max)));
    if let Some(t) = ic.temperature {
        body.insert("temperature".into(), Value::from(t));
    }
    if let Some(p) = ic.top_p {
        body.insert("top_p".into(), Value::from(p));
    }
    if !ic.stop_sequences.is_empty() {
        body.insert("stop_sequences".into(), Value::from(ic.stop_sequences.clone()));
    }
    if !req.system.is_empty() {
        let mut system = Vec::new();
        for b in &req.system {
            match b {
                SystemBlock::Text(t) => system.push(json!({"type": "text", "text": t})),
                SystemBlock::CachePoint(_) => cache_last(&mut system),
            }
        }
        body.insert("system".into(), Value::Array(system));
    }
    let mut messages = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        let role = match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        messages.push(json!({"role": role, "content": content(&m.content)?}));
    }
    body.insert("messages".into(), Value::Array(messages));
    if let Some(tc) = &req.tool_config {
        tools(tc, &mut body);
    }
    if let Some(format) = req.output_config.as_ref().and_then(json_format) {
        let oc = body.entry("output_config").or_insert_with(|| json!({}));
        if let Some(o) = oc.as_object_mut() {
            o.insert("format".into(), format);
        }
    }
    metadata(req, &mut body, notes);
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    let bytes = serde_json::to_vec(&Value::Object(body))
        .map_err(|e| ApiError::new(500, ErrorType::Server, format!("could not encode the request: {e}")))?;
    Ok((bytes, betas))
}

/// `requestMetadata.user` → `metadata.user_id`; what has no Messages field is noted.
fn metadata(req: &ConverseRequest, body: &mut Map<String, Value>, notes: &mut Vec<String>) {
    if let Some(u) = req.request_metadata.get("user") {
        body.insert("metadata".into(), json!({"user_id": u}));
    }
    let mut left: Vec<&str> = Vec::new();
    if req.request_metadata.keys().any(|k| k != "user") {
        left.push("request metadata");
    }
    if req.guardrail_config.is_some() {
        left.push("the guardrail");
    }
    if req.service_tier.is_some() {
        left.push("service_tier");
    }
    if !left.is_empty() {
        notes.push(format!(
            "not sent to Bedrock Mantle's Messages API (no such field): {}",
            left.join(", ")
        ));
    }
}

/// `cache_control` on the last block of `blocks` (a Converse cache point follows it).
fn cache_last(blocks: &mut [Value]) {
    if let Some(Value::Object(o)) = blocks.last_mut() {
        o.insert("cache_control".into(), json!({"type": "ephemeral"}));
    }
}

fn image(i: &ImageBlock) -> Value {
    json!({"type": "image", "source": {"type": "base64", "media_type": format!("image/{}", i.format), "data": i.source.bytes}})
}

/// A PDF as a base64 document, a plain-text format as a text document; other formats have no
/// Messages document type.
fn document(d: &DocumentBlock) -> R<Value> {
    let source = match d.format {
        "pdf" => json!({"type": "base64", "media_type": "application/pdf", "data": d.source.bytes}),
        "txt" | "md" | "csv" | "html" => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(d.source.bytes.as_bytes())
                .map_err(|e| ApiError::invalid_request(format!("a {} document is not valid base64: {e}", d.format)))?;
            let text = String::from_utf8(raw)
                .map_err(|_| ApiError::invalid_request(format!("a {} document is not UTF-8 text", d.format)))?;
            json!({"type": "text", "media_type": "text/plain", "data": text})
        }
        other => {
            return Err(ApiError::invalid_request(format!(
                "{other} documents are not supported by Claude on Bedrock Mantle (PDF and plain text are)"
            ))
            .with_code("unsupported_parameter"))
        }
    };
    Ok(json!({"type": "document", "source": source, "title": d.name}))
}

fn content(blocks: &[ContentBlock]) -> R<Vec<Value>> {
    let mut out = Vec::with_capacity(blocks.len());
    for b in blocks {
        let v = match b {
            ContentBlock::CachePoint(_) => {
                cache_last(&mut out);
                continue;
            }
            ContentBlock::Text(t) => json!({"type": "text", "text": t}),
            ContentBlock::Image(i) => image(i),
            ContentBlock::Document(d) => document(d)?,
            // Anthropic takes back only signed thinking blocks: an unsigned one is left out.
            ContentBlock::ReasoningContent(Reasoning::ReasoningText { signature: None, .. }) => continue,
            ContentBlock::ReasoningContent(Reasoning::ReasoningText {
                text,
                signature: Some(signature),
            }) => json!({"type": "thinking", "thinking": text, "signature": signature}),
            ContentBlock::ReasoningContent(Reasoning::RedactedContent(data)) => {
                json!({"type": "redacted_thinking", "data": data})
            }
            ContentBlock::ToolUse(t) => {
                json!({"type": "tool_use", "id": t.tool_use_id, "name": t.name, "input": t.input})
            }
            ContentBlock::ToolResult(r) => {
                let mut parts = Vec::with_capacity(r.content.len());
                for c in &r.content {
                    parts.push(match c {
                        ToolResultContent::Text(t) => json!({"type": "text", "text": t}),
                        ToolResultContent::Image(i) => image(i),
                        ToolResultContent::Document(d) => document(d)?,
                    });
                }
                let mut v = json!({"type": "tool_result", "tool_use_id": r.tool_use_id, "content": parts});
                if r.status == Some("error") {
                    v["is_error"] = Value::Bool(true);
                }
                v
            }
        };
        out.push(v);
    }
    Ok(out)
}

fn tools(tc: &super::converse::ToolConfig, body: &mut Map<String, Value>) {
    let mut list = Vec::with_capacity(tc.tools.len());
    for t in &tc.tools {
        match t {
            Tool::CachePoint(_) => cache_last(&mut list),
            Tool::ToolSpec(s) => {
                let mut v = json!({"name": s.name, "input_schema": s.input_schema.json.to_value()});
                if let Some(d) = &s.description {
                    v["description"] = Value::String(d.clone());
                }
                if let Some(strict) = s.strict {
                    v["strict"] = Value::Bool(strict);
                }
                list.push(v);
            }
        }
    }
    body.insert("tools".into(), Value::Array(list));
    if let Some(choice) = &tc.tool_choice {
        let c = match choice {
            ToolChoice::Auto(_) => json!({"type": "auto"}),
            ToolChoice::Any(_) => json!({"type": "any"}),
            ToolChoice::Tool { name } => json!({"type": "tool", "name": name}),
        };
        body.insert("tool_choice".into(), c);
    }
}

/// Converse's native JSON answer (`outputConfig.textFormat.structure.jsonSchema.schema`, a JSON
/// string) as Anthropic's `output_config.format`.
fn json_format(output_config: &Value) -> Option<Value> {
    let schema = output_config
        .pointer("/textFormat/structure/jsonSchema/schema")?
        .as_str()?;
    let schema: Value = serde_json::from_str(schema).ok()?;
    Some(json!({"type": "json_schema", "schema": schema}))
}

/// The reply side of a Claude request on Mantle: the client's own reply (chat, Responses), fed
/// Mantle's Anthropic answer read as Converse's.
pub struct ClaudeReply {
    pub inner: Box<dyn Reply>,
}

impl Reply for ClaudeReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        self.inner.into_sink()
    }
    fn translate_json(&self, body: &[u8]) -> Result<Answer, ApiError> {
        self.inner.translate_json(&messages_events::converse_json(body)?)
    }
    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        self.inner.error_body(e)
    }
    fn stream_content_type(&self) -> &'static str {
        self.inner.stream_content_type()
    }
    fn anthropic_sse(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::converse;
    use crate::bedrock::converse::{
        CachePoint, Empty, InferenceConfig, InputSchema, Message, Source, ToolConfig, ToolResult, ToolSpec,
    };

    #[test]
    fn a_converse_request_becomes_a_messages_body() {
        let mut extra = Map::new();
        extra.insert("thinking".into(), json!({"type": "enabled", "budget_tokens": 2048}));
        extra.insert("anthropic_beta".into(), json!(["interleaved-thinking-2025-05-14"]));
        let mut metadata = Map::new();
        metadata.insert("user".into(), json!("u-1"));
        metadata.insert("team".into(), json!("t"));
        let req = ConverseRequest {
            model_id: "anthropic.claude-opus-4-8".into(),
            additional_model_request_fields: extra,
            inference_config: InferenceConfig {
                max_tokens: None,
                stop_sequences: vec!["END".into()],
                temperature: Some(1.0),
                top_p: None,
            },
            system: vec![
                SystemBlock::Text("be brief".into()),
                SystemBlock::CachePoint(CachePoint::DEFAULT),
            ],
            messages: vec![
                Message {
                    role: Role::User,
                    content: vec![
                        ContentBlock::Text("weather?".into()),
                        ContentBlock::Image(ImageBlock {
                            format: "png",
                            source: Source { bytes: "iVBO".into() },
                        }),
                    ],
                },
                converse::thinking_tool_turn("toolu_1", "w", json!({"city": "Paris"})),
                Message {
                    role: Role::User,
                    content: vec![ContentBlock::ToolResult(ToolResult {
                        content: vec![ToolResultContent::Text("{\"c\":21}".into())],
                        status: Some("error"),
                        tool_use_id: "toolu_1".into(),
                    })],
                },
            ],
            tool_config: Some(ToolConfig {
                tools: vec![
                    Tool::ToolSpec(ToolSpec {
                        name: "w".into(),
                        description: Some("weather".into()),
                        input_schema: InputSchema {
                            json: json!({"type": "object"}).into(),
                        },
                        strict: None,
                    }),
                    Tool::CachePoint(CachePoint::DEFAULT),
                ],
                tool_choice: Some(ToolChoice::Auto(Empty {})),
            }),
            request_metadata: metadata,
            ..Default::default()
        };
        let mut notes = Vec::new();
        let (body, betas) = messages_body(&req, true, 32_000, &mut notes).unwrap();
        assert_eq!(betas, ["interleaved-thinking-2025-05-14"]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({
                "model": "anthropic.claude-opus-4-8", "max_tokens": 32000, "temperature": 1.0,
                "stop_sequences": ["END"], "stream": true,
                "thinking": {"type": "enabled", "budget_tokens": 2048},
                "metadata": {"user_id": "u-1"},
                "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "weather?"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}]},
                    {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"},
                        {"type": "tool_use", "id": "toolu_1", "name": "w", "input": {"city": "Paris"}}]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true,
                        "content": [{"type": "text", "text": "{\"c\":21}"}]}]}
                ],
                "tools": [{"name": "w", "description": "weather", "input_schema": {"type": "object"},
                           "cache_control": {"type": "ephemeral"}}],
                "tool_choice": {"type": "auto"}
            })
        );
    }

    #[test]
    fn documents_and_json_answers() {
        let doc = |format| DocumentBlock {
            format,
            name: "notes".into(),
            source: Source {
                bytes: "aGVsbG8=".into(),
            },
        };
        assert_eq!(
            document(&doc("txt")).unwrap()["source"],
            json!({"type": "text", "media_type": "text/plain", "data": "hello"})
        );
        assert_eq!(
            document(&doc("pdf")).unwrap()["source"]["media_type"],
            "application/pdf"
        );
        assert_eq!(document(&doc("docx")).unwrap_err().status, 400);
        let oc = json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema":
            {"name": "a", "schema": "{\"type\":\"object\"}"}}}});
        assert_eq!(
            json_format(&oc),
            Some(json!({"type": "json_schema", "schema": {"type": "object"}}))
        );
        let claude = crate::bedrock::catalog::mantle_messages_only;
        assert!(claude("anthropic.claude-opus-4-8") && !claude("openai.gpt-oss-120b"));
    }
}
