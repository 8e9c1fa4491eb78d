//! OpenAI `POST /v1/chat/completions` body → validated parameters → a [`Draft`] that the shared
//! request pipeline ([`crate::bedrock::pipeline`]) turns into a Bedrock [`ConverseRequest`], or a
//! request for Bedrock's OpenAI-compatible endpoint.
//!
//! Every parameter is either translated, accepted at its default value, or refused with a 400
//! that names it (or dropped when the configuration says `unsupported_params: "drop"`).
//! Nothing unknown is forwarded to Bedrock.

use crate::bedrock::build::{self, Conversation, ToolChoiceRequest};
use crate::bedrock::converse::{
    ContentBlock, ConverseRequest, InferenceConfig, Reasoning, Role, ServiceTier, SystemBlock, Tool, ToolResultContent,
};
use crate::bedrock::models::{Effort, JsonAnswer, ReasoningAsk};
use crate::bedrock::passthrough::{self, PassthroughRequest};
use crate::bedrock::pipeline::{self, Draft};
use crate::config::{Api, Config, UnsupportedParams};
use crate::error::ApiError;
use crate::front::fields::{
    self, given, take_str, type_name, want_arr, want_bool, want_obj, want_tokens, Model, Param, Path, Style, ToolEntry,
};
use serde_json::{Map, Value};

/// A chat request translated for Converse, with what the reply needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatTranslation {
    /// The Converse request (`model_id` set).
    pub converse: ConverseRequest,
    /// The model name the client asked for (echoed in responses).
    pub client_model: String,
    pub stream: bool,
    pub include_usage: bool,
    /// With `response_format` json_object / json_schema: the forced tool whose input is the
    /// answer, returned to the client as the message content.
    pub json_tool: Option<String>,
    /// Log lines for what the pipeline changed (metadata cleaned, sampling relaxed, thinking off).
    pub notes: Vec<String>,
}

/// Where a chat request goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Translated {
    Converse(Box<ChatTranslation>),
    /// A model configured with `api: openai`.
    Passthrough(PassthroughRequest),
}

type R<T> = Result<T, ApiError>;

fn bad(param: impl Into<String>, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_param(param, msg)
}

fn want_str<'a, 'p>(v: &'a Value, param: impl Into<Path<'p>>) -> R<&'a str> {
    fields::want_str(Some(v), param)
}

/// `o[key]`, or `null` when absent (so `want_*` names the field in its error).
fn field<'a>(o: &'a Map<String, Value>, key: &str) -> &'a Value {
    o.get(key).unwrap_or(&Value::Null)
}

/// What the translator does with each top-level OpenAI parameter.
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
        | "service_tier"
        | "safety_identifier"
        | "prompt_cache_key" => Handled,
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
pub fn translate(body: &[u8], cfg: &Config) -> R<Translated> {
    // Mutable: the tool schemas and descriptions are moved out, not copied.
    let req = &mut fields::parse_body_keeping(body, Some(fields::CHAT_SCHEMAS))?;
    let Model {
        client: client_model,
        id: model_id,
        api,
    } = fields::model(req, cfg, Style::OpenAi)?;
    if api == Api::Openai {
        // Passed on as the client sent it: its tool schemas as values again.
        if let Some(tools) = req.get_mut("tools") {
            fastjson::read::read_back(tools, &fields::CHAT_SCHEMAS[1..]);
        }
        return passthrough::chat(req, client_model, model_id).map(Translated::Passthrough);
    }
    let drop = cfg.unsupported_params == UnsupportedParams::Drop;
    fields::check_params(req, drop, param_kind)?;

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

    let (system, messages) = read_messages(req, cfg)?;
    let max_tokens = match (given(req, "max_completion_tokens"), given(req, "max_tokens")) {
        (Some(v), _) => Some(want_tokens(v, "max_completion_tokens")?),
        (_, Some(v)) => Some(want_tokens(v, "max_tokens")?),
        _ => None,
    };
    let mut inference_config = InferenceConfig {
        max_tokens,
        stop_sequences: read_stop(req)?,
        ..Default::default()
    };
    fields::openai_sampling(req, &mut inference_config)?;
    let draft = Draft {
        converse: ConverseRequest {
            inference_config,
            messages,
            model_id,
            service_tier: check_flags(req, drop)?,
            system,
            ..Default::default()
        },
        reasoning: read_reasoning(req)?,
        reasoning_param: "reasoning_effort",
        tools: read_tools(req, cfg)?,
        tool_choice: read_tool_choice(req)?,
        metadata: read_metadata(req)?,
        output: match given(req, "response_format") {
            Some(rf) => read_response_format(rf)?.map(|a| (a, "response_format")),
            None => None,
        },
        stream,
        ..Default::default()
    };
    let built = pipeline::finish(draft, cfg)?;
    Ok(Translated::Converse(Box::new(ChatTranslation {
        converse: built.converse,
        client_model,
        stream,
        include_usage,
        json_tool: built.json_tool,
        notes: built.notes,
    })))
}

/// `stop`: a string or an array of strings.
fn read_stop(req: &Map<String, Value>) -> R<Vec<String>> {
    match req.get("stop") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) => {
            let mut seqs = Vec::with_capacity(a.len());
            for s in a {
                seqs.push(want_str(s, "stop")?.to_string());
            }
            Ok(seqs)
        }
        Some(other) => Err(bad(
            "stop",
            format!(
                "`stop` must be a string or an array of strings, not {}",
                type_name(other)
            ),
        )),
    }
}

/// `thinking` (passed as it is) or `reasoning_effort` (mapped per model by the pipeline).
fn read_reasoning(req: &Map<String, Value>) -> R<ReasoningAsk> {
    if let Some(t) = given(req, "thinking") {
        want_obj(t, "thinking")?;
        return Ok(ReasoningAsk::Fields(t.clone()));
    }
    let Some(e) = given(req, "reasoning_effort") else {
        return Ok(ReasoningAsk::Unset);
    };
    let effort = Effort::parse(want_str(e, "reasoning_effort")?).ok_or_else(|| {
        bad(
            "reasoning_effort",
            "`reasoning_effort` must be one of none, minimal, low, medium, high, xhigh",
        )
    })?;
    Ok(ReasoningAsk::Effort(effort))
}

/// `user`, `safety_identifier` and `metadata` → `requestMetadata` entries (the pipeline cleans
/// them into Bedrock's character set). Only the types are checked.
fn read_metadata(req: &Map<String, Value>) -> R<pipeline::Metadata> {
    let mut out = Vec::new();
    for key in ["user", "safety_identifier"] {
        if let Some(u) = given(req, key) {
            out.push((key.to_string(), want_str(u, key)?.to_string()));
        }
    }
    if let Some(m) = given(req, "metadata") {
        for (k, val) in want_obj(m, "metadata")? {
            let v = want_str(val, &format!("metadata.{k}"))?;
            out.push((k.clone(), v.to_string()));
        }
    }
    Ok(out)
}

/// `parallel_tool_calls`, `store`, `prompt_cache_key` (accepted, not used: Bedrock's prompt
/// caching is explicit, with `cache_control`) and `service_tier` ([`fields::openai_service_tier`],
/// shared with Responses).
fn check_flags(req: &Map<String, Value>, drop: bool) -> R<Option<ServiceTier>> {
    if let Some(p) = given(req, "parallel_tool_calls") {
        want_bool(p, "parallel_tool_calls")?;
    }
    if let Some(k) = given(req, "prompt_cache_key") {
        want_str(k, "prompt_cache_key")?;
    }
    if let Some(s) = given(req, "store") {
        if want_bool(s, "store")? && !drop {
            return Err(bad(
                "store",
                "`store: true` is not supported: the gateway keeps no completions",
            )
            .with_code("unsupported_parameter"));
        }
    }
    fields::openai_service_tier(req, drop)
}

// ---------------------------------------------------------------------------------------------
// Tools and response_format

/// `tools` → tool specs (with a cache point after each tool that has `cache_control`).
fn read_tools(req: &mut Map<String, Value>, cfg: &Config) -> R<Vec<Tool>> {
    fields::tools(req, cfg.limits.max_tools, Style::OpenAi, |o, p| {
        if o.get("type").and_then(Value::as_str) != Some("function") {
            return Err(
                bad(format!("{p}.type"), "only `function` tools are supported").with_code("unsupported_tool_type")
            );
        }
        let fp = p.field("function");
        let mut absent = Value::Null;
        let f = Style::OpenAi.object_mut(o.get_mut("function").unwrap_or(&mut absent), fp)?;
        let spec = fields::tool_spec(f, &fp, "parameters", false, Style::OpenAi)?;
        Ok(Some(ToolEntry {
            spec,
            cache_point: given(o, "cache_control").is_some(),
        }))
    })
}

/// `tool_choice`: `auto`, `required`, `none` or `{"type": "function", "function": {"name"}}`.
fn read_tool_choice(req: &Map<String, Value>) -> R<ToolChoiceRequest> {
    fields::openai_tool_choice(req, |o| {
        let f = want_obj(field(o, "function"), "tool_choice.function")?;
        Ok(want_str(field(f, "name"), "tool_choice.function.name")?.to_string())
    })
}

/// `response_format`: `None` for text, else the JSON answer to ask for.
fn read_response_format(rf: &Value) -> R<Option<JsonAnswer>> {
    let o = want_obj(rf, "response_format")?;
    let kind = want_str(field(o, "type"), "response_format.type")?;
    let answer = match kind {
        "text" => return Ok(None),
        "json_object" => fields::json_object_answer(),
        "json_schema" => {
            let js = want_obj(field(o, "json_schema"), "response_format.json_schema")?;
            fields::json_schema_answer(js, "response_format.json_schema")?
        }
        other => {
            return Err(bad(
                "response_format.type",
                format!("`response_format.type` must be text, json_object or json_schema, not {other:?}"),
            ))
        }
    };
    Ok(Some(answer))
}

// ---------------------------------------------------------------------------------------------
// Messages

/// `messages` → system blocks and Converse messages.
fn read_messages(
    req: &mut Map<String, Value>,
    cfg: &Config,
) -> R<(Vec<SystemBlock>, Vec<crate::bedrock::converse::Message>)> {
    let messages = match req.get_mut("messages") {
        Some(m) => Style::OpenAi.array_mut(m, "messages")?,
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
    let mut conv = Conversation::new();
    let top = Path::Top("messages");
    for (i, m) in messages.iter_mut().enumerate() {
        read_message(m, &top.at(i, Style::OpenAi), &mut conv)?;
    }
    let (system, messages) = conv.finish()?;
    if messages.is_empty() {
        return Err(bad(
            "messages",
            "`messages` must contain at least one user or assistant message",
        ));
    }
    Ok((system, messages))
}

fn has_cache_control(o: &Map<String, Value>) -> bool {
    given(o, "cache_control").is_some()
}

/// One message into the conversation.
fn read_message(m: &mut Value, p: &Path, conv: &mut Conversation) -> R<()> {
    let o = Style::OpenAi.object_mut(m, p)?;
    // Owned: the arms move the content out of `o`.
    let role = match o.get("role") {
        Some(r) => want_str(r, p.field("role"))?.to_string(),
        None => return Err(bad(format!("{p}.role"), format!("`{p}.role` is required"))),
    };
    let (role, mut blocks) = match role.as_str() {
        "system" | "developer" => {
            let blocks = text_only(o.get_mut("content"), &p.field("content"), true)?;
            conv.system.extend(blocks.into_iter().filter_map(|b| match b {
                ContentBlock::Text(t) => Some(SystemBlock::Text(t)),
                ContentBlock::CachePoint(c) => Some(SystemBlock::CachePoint(c)),
                _ => None,
            }));
            if has_cache_control(o) {
                conv.system
                    .push(SystemBlock::CachePoint(crate::bedrock::converse::CachePoint::DEFAULT));
            }
            return Ok(());
        }
        "user" => (Role::User, user_content(o.get_mut("content"), &p.field("content"))?),
        "assistant" => (Role::Assistant, assistant_content(o, p)?),
        "tool" => (Role::User, vec![tool_result(o, p)?]),
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
    if has_cache_control(o) && !blocks.is_empty() {
        blocks.push(build::cache_point());
    }
    conv.push(role, blocks);
    Ok(())
}

/// Text content: a string or an array of text parts (text and cache point blocks).
fn text_only(content: Option<&mut Value>, p: &Path, skip_empty: bool) -> R<Vec<ContentBlock>> {
    let mut out = Vec::new();
    match content {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            if !(skip_empty && s.is_empty()) {
                out.push(ContentBlock::Text(std::mem::take(s)));
            }
        }
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter_mut().enumerate() {
                let pp = p.at(j, Style::OpenAi);
                let o = Style::OpenAi.object_mut(part, pp)?;
                if o.get("type").and_then(Value::as_str) != Some("text") {
                    return Err(bad(&pp, format!("`{pp}` must be a text part here")));
                }
                let t = want_str(field(o, "text"), pp.field("text"))?;
                if !(skip_empty && t.is_empty()) {
                    out.push(ContentBlock::Text(take_str(o.get_mut("text"))));
                }
                if has_cache_control(o) {
                    out.push(build::cache_point());
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

fn user_content(content: Option<&mut Value>, p: &Path) -> R<Vec<ContentBlock>> {
    let parts = match content {
        Some(Value::Array(parts)) => parts,
        None | Some(Value::Null) => return Err(bad(p, format!("`{p}` is required for user messages"))),
        other => return text_only(other, p, false),
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter_mut().enumerate() {
        let pp = p.at(j, Style::OpenAi);
        let o = Style::OpenAi.object_mut(part, pp)?;
        let kind = want_str(field(o, "type"), pp.field("type"))?;
        match kind {
            "text" => {
                want_str(field(o, "text"), pp.field("text"))?;
                out.push(ContentBlock::Text(take_str(o.get_mut("text"))));
            }
            "image_url" => out.push(image_part(field(o, "image_url"), &pp)?),
            "file" => out.push(file_part(field(o, "file"), &pp)?),
            "input_audio" => {
                return Err(
                    bad(&pp, "audio input is not supported by Amazon Bedrock's Converse API")
                        .with_code("unsupported_content"),
                )
            }
            other => {
                return Err(bad(
                    &pp,
                    format!("`{pp}.type` {other:?} is not a supported content part type"),
                ))
            }
        }
        if has_cache_control(o) {
            out.push(build::cache_point());
        }
    }
    Ok(out)
}

/// `{"type": "image_url", "image_url": "data:…" | {"url": "data:…"}}`.
fn image_part(iu: &Value, pp: &Path) -> R<ContentBlock> {
    let url = match iu {
        Value::String(s) => s.as_str(),
        Value::Object(m) => want_str(field(m, "url"), pp.field("image_url.url"))?,
        _ => {
            return Err(bad(
                format!("{pp}.image_url"),
                format!("`{pp}.image_url` must have a `url`"),
            ))
        }
    };
    let param = pp.field("image_url");
    if url.starts_with("http://") || url.starts_with("https://") {
        return Err(bad(
            &param,
            "image URLs are not fetched by this gateway; send the image inline as a data URI (data:image/png;base64,...)",
        )
        .with_code("image_url_not_supported"));
    }
    let (mime, data) = build::data_uri(url, &param)?;
    Ok(ContentBlock::Image(build::image_block(mime, data, &param)?))
}

/// `{"type": "file", "file": {"file_data": "data:…", "filename"?}}`.
fn file_part(f: &Value, p: &Path) -> R<ContentBlock> {
    let o = want_obj(f, p.field("file"))?;
    if given(o, "file_id").is_some() {
        return Err(bad(
            format!("{p}.file.file_id"),
            "file ids are not supported (the gateway stores no files); send `file_data` as a data URI",
        ));
    }
    let data = want_str(field(o, "file_data"), p.field("file.file_data"))?;
    let (mime, b64) = build::data_uri(data, &p.field("file.file_data"))?;
    let filename = o.get("filename").and_then(Value::as_str);
    Ok(ContentBlock::Document(build::document_block(
        mime,
        b64,
        filename,
        &p.field("file"),
    )?))
}

/// `thinking_blocks` → reasoning blocks, as Claude produced them (first in the turn).
fn thinking_blocks(tb: &Value, p: &Path) -> R<Vec<ContentBlock>> {
    let mut out = Vec::new();
    let tbp = p.field("thinking_blocks");
    for (j, b) in want_arr(tb, tbp)?.iter().enumerate() {
        let bp = tbp.at(j, Style::OpenAi);
        let bo = want_obj(b, bp)?;
        let reasoning = match bo.get("type").and_then(Value::as_str) {
            Some("thinking") => Reasoning::ReasoningText {
                signature: bo.get("signature").and_then(Value::as_str).map(str::to_string),
                text: want_str(field(bo, "thinking"), bp.field("thinking"))?.to_string(),
            },
            Some("redacted_thinking") => {
                Reasoning::RedactedContent(build::redacted_content(want_str(field(bo, "data"), bp.field("data"))?))
            }
            _ => {
                return Err(bad(
                    &bp,
                    "thinking blocks must have type `thinking` or `redacted_thinking`",
                ))
            }
        };
        out.push(ContentBlock::ReasoningContent(reasoning));
    }
    Ok(out)
}

fn assistant_content(o: &mut Map<String, Value>, p: &Path) -> R<Vec<ContentBlock>> {
    let mut out = match given(o, "thinking_blocks") {
        Some(tb) => thinking_blocks(tb, p)?,
        None => Vec::new(),
    };
    out.extend(text_only(o.get_mut("content"), &p.field("content"), true)?);
    if let Some(tc) = given(o, "tool_calls") {
        let tcp = p.field("tool_calls");
        for (j, call) in want_arr(tc, tcp)?.iter().enumerate() {
            let cp = tcp.at(j, Style::OpenAi);
            let co = want_obj(call, cp)?;
            let id = want_str(field(co, "id"), cp.field("id"))?;
            let f = want_obj(field(co, "function"), cp.field("function"))?;
            let name_param = cp.field("function.name");
            let name = want_str(field(f, "name"), name_param)?;
            build::check_tool_name(name, &name_param)?;
            let args_param = cp.field("function.arguments");
            let args = match f.get("arguments") {
                None | Some(Value::Null) => "{}",
                Some(a) => want_str(a, args_param)?,
            };
            out.push(ContentBlock::ToolUse(build::tool_use(id, name, args, &args_param)?));
        }
    }
    Ok(out)
}

fn tool_result(o: &mut Map<String, Value>, p: &Path) -> R<ContentBlock> {
    let id = want_str(field(o, "tool_call_id"), p.field("tool_call_id"))?.to_string();
    let content = text_only(o.get_mut("content"), &p.field("content"), false)?
        .into_iter()
        .filter_map(|b| match b {
            ContentBlock::Text(t) => Some(ToolResultContent::Text(t)),
            _ => None,
        })
        .collect();
    Ok(build::tool_result(&id, content))
}
