//! OpenAI Responses API request (`POST /v1/responses`) → a typed Bedrock Converse request.
//!
//! Every top-level field is translated, accepted at a harmless value, or refused with a 400 that
//! names it. The gateway is stateless: `store: true`, `previous_response_id` and item references
//! are refused with a message that says so; reasoning travels through `encrypted_content`
//! ([`super::reasoning`]).

use super::reasoning;
use crate::bedrock::build::{self, ToolChoiceRequest};
use crate::bedrock::converse::{
    ContentBlock, ConverseRequest, InferenceConfig, Message, Role, SystemBlock, Tool, ToolResultContent,
};
use crate::bedrock::models::{Effort, JsonAnswer, ReasoningAsk};
use crate::bedrock::pipeline::{self, Draft};
use crate::config::{Config, UnsupportedParams};
use crate::error::ApiError;
use crate::front::fields::{
    self, given, type_name, want_arr, want_bool, want_obj, want_str, Param, Path, Style, ToolEntry,
};
use serde_json::{Map, Value};

type R<T> = Result<T, ApiError>;

/// A translated Responses request, and what the response side needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub converse: ConverseRequest,
    pub(crate) client_model: String,
    pub stream: bool,
    /// Reasoning goes out as `summary` (the client set `reasoning.summary`) instead of
    /// `content` of type `reasoning_text`.
    pub reasoning_as_summary: bool,
    /// The forced tool whose input is the answer (`text.format` json_object / json_schema).
    pub json_tool: Option<String>,
    /// The request fields a response object echoes (`instructions`, `tools`, `tool_choice`, …).
    pub echo: Map<String, Value>,
    /// Log lines for what the pipeline changed.
    pub(crate) notes: Vec<String>,
}

fn bad(param: impl Into<String>, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_param(param, msg)
}

fn unsupported(param: impl Into<String>, msg: impl Into<String>) -> ApiError {
    bad(param, msg).with_code("unsupported_parameter")
}

/// What the translator does with each top-level field.
fn param_kind(name: &str) -> Option<Param> {
    use Param::*;
    Some(match name {
        "model"
        | "input"
        | "instructions"
        | "tools"
        | "tool_choice"
        | "parallel_tool_calls"
        | "reasoning"
        | "max_output_tokens"
        | "temperature"
        | "top_p"
        | "text"
        | "metadata"
        | "user"
        | "stream"
        | "store"
        | "previous_response_id"
        | "include"
        | "service_tier"
        | "stream_options"
        | "truncation" => Handled,
        // The client's own metadata for OpenAI (Codex sends its session ids): not forwarded.
        "client_metadata" => DefaultOnly(|v| v.is_null() || v.is_object()),
        // Identifiers for OpenAI's own caching and abuse detection: nothing to do on Bedrock.
        "prompt_cache_key" | "safety_identifier" | "prompt_cache_retention" => {
            DefaultOnly(|v| v.is_null() || v.is_string())
        }
        "top_logprobs" => DefaultOnly(|v| v.is_null() || v.as_u64() == Some(0)),
        "background" => DefaultOnly(|v| v.is_null() || v == &Value::Bool(false)),
        "max_tool_calls" | "conversation" | "prompt" => DefaultOnly(Value::is_null),
        _ => return None,
    })
}

/// Translate a Responses API request body.
pub fn translate(body: &[u8], cfg: &Config) -> R<Translated> {
    let req = &fields::parse_body_keeping(body, Some(fields::RESPONSES_SCHEMAS))?;
    let drop = cfg.unsupported_params == UnsupportedParams::Drop;
    let model = fields::converse_model(req, cfg, Style::OpenAi, "Responses API")?;
    fields::check_params(req, drop, param_kind)?;
    check_stateless(req, drop)?;
    let stream = match given(req, "stream") {
        None => false,
        Some(s) => want_bool(s, "stream")?,
    };
    let conv = conversation(req, cfg)?;
    let mut inference_config = InferenceConfig {
        max_tokens: given(req, "max_output_tokens")
            .map(|v| fields::want_tokens(v, "max_output_tokens"))
            .transpose()?,
        ..Default::default()
    };
    fields::openai_sampling(req, &mut inference_config)?;
    let reasoning = read_reasoning(req, drop)?;
    let (tools, tool_choice) = tools(req, cfg)?;
    let (answer, format_echo) = text_format(req)?;
    let (metadata, metadata_echo) = read_metadata(req)?;
    let echo = echo(req, &reasoning, format_echo, metadata_echo)?;
    let draft = Draft {
        converse: ConverseRequest {
            inference_config,
            messages: conv.messages,
            model_id: model.id,
            service_tier: fields::openai_service_tier(req, drop)?,
            system: conv.system,
            ..Default::default()
        },
        reasoning: reasoning.ask,
        reasoning_param: "reasoning.effort",
        tools,
        tool_choice,
        metadata,
        output: answer.map(|a| (a, "text.format")),
        stream,
        ..Default::default()
    };
    let built = pipeline::finish(draft, cfg)?;
    Ok(Translated {
        converse: built.converse,
        client_model: model.client,
        stream,
        reasoning_as_summary: reasoning.as_summary,
        json_tool: built.json_tool,
        echo,
        notes: built.notes,
    })
}

/// The fields a stateless gateway cannot honour: nothing is stored, nothing can be looked up.
fn check_stateless(req: &Map<String, Value>, drop: bool) -> R<()> {
    if let Some(s) = given(req, "store") {
        if want_bool(s, "store")? && !drop {
            return Err(unsupported(
                "store",
                "`store: true` is not supported: this gateway stores no responses. Send `store: false` (or leave it \
                 out) and pass the conversation in `input`; reasoning round-trips through `encrypted_content`",
            ));
        }
    }
    if given(req, "previous_response_id").is_some() {
        return Err(unsupported(
            "previous_response_id",
            "`previous_response_id` is not supported: this gateway stores no responses. Send the whole conversation \
             in `input` (output items of earlier responses can be sent back as they are)",
        ));
    }
    if let Some(inc) = given(req, "include") {
        for (i, x) in want_arr(inc, "include")?.iter().enumerate() {
            let p = format!("include[{i}]");
            let s = want_str(Some(x), &p)?;
            if s == "message.output_text.logprobs" && !drop {
                return Err(unsupported(
                    p,
                    "log probabilities are not available from Amazon Bedrock",
                ));
            }
        }
    }
    if let Some(t) = given(req, "truncation") {
        if want_str(Some(t), "truncation")? != "disabled" && !drop {
            return Err(unsupported(
                "truncation",
                "only `truncation: \"disabled\"` is supported",
            ));
        }
    }
    if let Some(o) = given(req, "stream_options") {
        want_obj(o, "stream_options")?;
    }
    Ok(())
}

/// `instructions` and `input` → system blocks and messages.
fn conversation(req: &Map<String, Value>, cfg: &Config) -> R<Conversation> {
    let mut conv = Conversation::default();
    match given(req, "instructions") {
        None => {}
        Some(Value::String(s)) => conv.system_text(s),
        Some(Value::Array(items)) => {
            let top = Path::Top("instructions");
            for (n, item) in items.iter().enumerate() {
                conv.item(item, &top.at(n, Style::OpenAi))?;
            }
        }
        Some(other) => {
            return Err(bad(
                "instructions",
                format!("`instructions` must be a string, not {}", type_name(other)),
            ))
        }
    }
    match given(req, "input") {
        None => {
            return Err(bad(
                "input",
                "you must provide an `input` (this gateway keeps no earlier responses)",
            )
            .with_code("missing_required_parameter"))
        }
        Some(Value::String(s)) => conv.push(Role::User, vec![ContentBlock::Text(s.clone())]),
        Some(Value::Array(items)) => {
            if items.len() > cfg.limits.max_messages {
                return Err(bad(
                    "input",
                    format!(
                        "`input` has {} items; this gateway accepts at most {}",
                        items.len(),
                        cfg.limits.max_messages
                    ),
                ));
            }
            let top = Path::Top("input");
            for (n, item) in items.iter().enumerate() {
                conv.item(item, &top.at(n, Style::OpenAi))?;
            }
        }
        Some(other) => {
            return Err(bad(
                "input",
                format!(
                    "`input` must be a string or an array of items, not {}",
                    type_name(other)
                ),
            ))
        }
    }
    if conv.messages.is_empty() {
        return Err(bad(
            "input",
            "`input` must contain at least one user or assistant message",
        ));
    }
    Ok(conv)
}

/// The client's `reasoning`: what it adds to the Converse request, and what the response says.
#[derive(Default)]
struct ReasoningAsked {
    ask: ReasoningAsk,
    /// Reasoning goes out as `summary` (`reasoning.summary` other than `none`).
    as_summary: bool,
    /// `reasoning.effort` and `reasoning.summary` as the response object echoes them.
    effort: Value,
    summary: Value,
}

/// `reasoning`: `effort` (mapped per model by the pipeline; `xhigh` as `high`), `summary`
/// (`generate_summary`, its old name).
fn read_reasoning(req: &Map<String, Value>, drop: bool) -> R<ReasoningAsked> {
    let mut out = ReasoningAsked::default();
    let Some(r) = given(req, "reasoning") else {
        return Ok(out);
    };
    let r = want_obj(r, "reasoning")?;
    for k in r.keys() {
        if !matches!(k.as_str(), "effort" | "summary" | "generate_summary") && !drop {
            return Err(bad(
                format!("reasoning.{k}"),
                format!("Unrecognized argument: reasoning.{k}"),
            )
            .with_code("unknown_parameter"));
        }
    }
    let summary = match (given(r, "summary"), given(r, "generate_summary")) {
        (Some(s), _) | (None, Some(s)) => Some(want_str(Some(s), "reasoning.summary")?),
        _ => None,
    };
    if let Some(s) = summary {
        if !matches!(s, "auto" | "concise" | "detailed" | "none") {
            return Err(bad(
                "reasoning.summary",
                "`reasoning.summary` must be one of auto, concise, detailed, none",
            ));
        }
        out.as_summary = s != "none";
        out.summary = Value::String(s.to_string());
    }
    let Some(e) = given(r, "effort") else {
        return Ok(out);
    };
    let effort = want_str(Some(e), "reasoning.effort")?;
    let level = Effort::parse(effort).ok_or_else(|| {
        bad(
            "reasoning.effort",
            "`reasoning.effort` must be one of none, minimal, low, medium, high, xhigh",
        )
    })?;
    out.effort = Value::String(effort.to_string());
    out.ask = ReasoningAsk::Effort(level);
    Ok(out)
}

/// `user` and `metadata` → `requestMetadata` entries (the pipeline cleans them into Bedrock's
/// character set), and the metadata the response echoes.
fn read_metadata(req: &Map<String, Value>) -> R<(pipeline::Metadata, Map<String, Value>)> {
    let mut entries = Vec::new();
    if let Some(u) = given(req, "user") {
        entries.push(("user".to_string(), want_str(Some(u), "user")?.to_string()));
    }
    let mut metadata_echo = Map::new();
    if let Some(m) = given(req, "metadata") {
        for (k, val) in want_obj(m, "metadata")? {
            let v = want_str(Some(val), &format!("metadata.{k}"))?;
            entries.push((k.clone(), v.to_string()));
            metadata_echo.insert(k.clone(), Value::from(v));
        }
    }
    Ok((entries, metadata_echo))
}

/// The request fields a response object echoes (`instructions`, `tools`, `tool_choice`, …).
fn echo(
    req: &Map<String, Value>,
    reasoning: &ReasoningAsked,
    format_echo: Value,
    metadata_echo: Map<String, Value>,
) -> R<Map<String, Value>> {
    let parallel = match given(req, "parallel_tool_calls") {
        None => true,
        Some(p) => want_bool(p, "parallel_tool_calls")?,
    };
    let or = |k: &str, default: Value| given(req, k).cloned().unwrap_or(default);
    let mut echo = Map::new();
    echo.insert("instructions".into(), or("instructions", Value::Null));
    echo.insert("max_output_tokens".into(), or("max_output_tokens", Value::Null));
    echo.insert("metadata".into(), Value::Object(metadata_echo));
    echo.insert("parallel_tool_calls".into(), Value::Bool(parallel));
    echo.insert("previous_response_id".into(), Value::Null);
    let mut reasoning_echo = Map::new();
    reasoning_echo.insert("effort".into(), reasoning.effort.clone());
    reasoning_echo.insert("summary".into(), reasoning.summary.clone());
    echo.insert("reasoning".into(), Value::Object(reasoning_echo));
    echo.insert("store".into(), Value::Bool(false));
    echo.insert("temperature".into(), or("temperature", Value::from(1.0)));
    let mut text_echo = Map::new();
    text_echo.insert("format".into(), format_echo);
    echo.insert("text".into(), Value::Object(text_echo));
    echo.insert("tool_choice".into(), or("tool_choice", Value::from("auto")));
    // The client's tools as it sent them: their schemas (kept as text) read back.
    let mut tools = or("tools", Value::Array(Vec::new()));
    fastjson::read::read_back(&mut tools, &fields::RESPONSES_SCHEMAS[1..]);
    echo.insert("tools".into(), tools);
    echo.insert("top_p".into(), or("top_p", Value::from(1.0)));
    echo.insert("truncation".into(), Value::from("disabled"));
    echo.insert("user".into(), or("user", Value::Null));
    Ok(echo)
}

/// Messages in Bedrock's alternating shape, built item by item.
#[derive(Default)]
struct Conversation {
    system: Vec<SystemBlock>,
    messages: Vec<Message>,
}

impl Conversation {
    fn system_text(&mut self, s: &str) {
        if !s.is_empty() {
            self.system.push(SystemBlock::Text(s.to_string()));
        }
    }

    /// Append blocks to the conversation, merging into the last message when it has the same
    /// role (Bedrock wants strict alternation; the Responses API sends one item per block).
    fn push(&mut self, role: Role, blocks: Vec<ContentBlock>) {
        if blocks.is_empty() {
            return;
        }
        match self.messages.last_mut() {
            Some(m) if m.role == role => m.content.extend(blocks),
            _ => self.messages.push(Message { content: blocks, role }),
        }
    }

    /// One input item (or `instructions` item) at path `p`.
    fn item(&mut self, item: &Value, p: &Path) -> R<()> {
        let o = want_obj(item, p)?;
        let kind = match o.get("type") {
            None | Some(Value::Null) => "message",
            Some(t) => want_str(Some(t), p.field("type"))?,
        };
        match kind {
            "message" => self.message(o, p),
            "function_call" => self.function_call(o, p),
            "function_call_output" => self.function_call_output(o, p),
            "reasoning" => self.reasoning(o, p),
            "item_reference" => Err(unsupported(
                format!("{p}.type"),
                "item references are not supported: this gateway stores no responses. Send the items themselves \
                 (with the Vercel AI SDK: providerOptions.openai.store = false)",
            )),
            other => Err(bad(
                format!("{p}.type"),
                format!(
                    "input items of type {other:?} are not supported; this gateway accepts message, function_call, \
                     function_call_output and reasoning items"
                ),
            )
            .with_code("unsupported_item_type")),
        }
    }

    /// A `function_call` item: a `toolUse` block of the assistant's turn ([`build::tool_use`]:
    /// arguments that are not JSON, as a stream cut at max tokens leaves them, become `{}`).
    fn function_call(&mut self, o: &Map<String, Value>, p: &Path) -> R<()> {
        let call_id = want_str(o.get("call_id"), p.field("call_id"))?;
        let name = want_str(o.get("name"), p.field("name"))?;
        let args = match o.get("arguments") {
            None | Some(Value::Null) => "",
            Some(a) => want_str(Some(a), p.field("arguments"))?,
        };
        let call = build::tool_use(call_id, name, args, &p.field("arguments"))?;
        self.push(Role::Assistant, vec![ContentBlock::ToolUse(call)]);
        Ok(())
    }

    /// A `function_call_output` item: a `toolResult` block of the user's turn (text, images and
    /// files; an empty output becomes an empty text).
    fn function_call_output(&mut self, o: &Map<String, Value>, p: &Path) -> R<()> {
        let call_id = want_str(o.get("call_id"), p.field("call_id"))?;
        let op = p.field("output");
        let mut content = Vec::new();
        match o.get("output") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => content.push(ToolResultContent::Text(s.clone())),
            Some(Value::Array(parts)) => {
                for (j, part) in parts.iter().enumerate() {
                    match part_block(part, &op.at(j, Style::OpenAi))? {
                        Some(ContentBlock::Text(t)) => content.push(ToolResultContent::Text(t)),
                        Some(ContentBlock::Image(i)) => content.push(ToolResultContent::Image(i)),
                        Some(ContentBlock::Document(d)) => content.push(ToolResultContent::Document(d)),
                        _ => {}
                    }
                }
            }
            Some(other) => {
                return Err(bad(
                    &op,
                    format!(
                        "`{op}` must be a string or an array of content parts, not {}",
                        type_name(other)
                    ),
                ))
            }
        }
        if content.is_empty() {
            content.push(ToolResultContent::Text(String::new()));
        }
        self.push(Role::User, vec![build::tool_result(call_id, content)]);
        Ok(())
    }

    /// A `reasoning` item: the signed reasoning block in its `encrypted_content`.
    fn reasoning(&mut self, o: &Map<String, Value>, p: &Path) -> R<()> {
        let ep = p.field("encrypted_content");
        match o.get("encrypted_content") {
            // Without the signed block there is nothing Bedrock would accept: the item is
            // left out (and thinking goes off for a tool turn that needed it).
            None | Some(Value::Null) => Ok(()),
            Some(v) => {
                let block = reasoning::decode(want_str(Some(v), ep)?).ok_or_else(|| {
                    bad(
                        &ep,
                        format!(
                            "`{ep}` was not issued by this gateway (or was altered); send back reasoning \
                             items exactly as they were received"
                        ),
                    )
                    .with_code("invalid_encrypted_content")
                })?;
                self.push(Role::Assistant, vec![ContentBlock::ReasoningContent(block)]);
                Ok(())
            }
        }
    }

    fn message(&mut self, o: &Map<String, Value>, p: &Path) -> R<()> {
        let role = want_str(o.get("role"), p.field("role"))?;
        let cp = p.field("content");
        let mut blocks = Vec::new();
        match o.get("content") {
            Some(Value::String(s)) => blocks.push(ContentBlock::Text(s.clone())),
            Some(Value::Array(parts)) => {
                for (j, part) in parts.iter().enumerate() {
                    if let Some(b) = part_block(part, &cp.at(j, Style::OpenAi))? {
                        blocks.push(b);
                    }
                }
            }
            Some(other) => {
                return Err(bad(
                    &cp,
                    format!(
                        "`{cp}` must be a string or an array of content parts, not {}",
                        type_name(other)
                    ),
                ))
            }
            None => return Err(bad(&cp, format!("`{cp}` is required")).with_code("missing_required_parameter")),
        }
        // Bedrock refuses blank text blocks.
        blocks.retain(|b| !matches!(b, ContentBlock::Text(t) if t.trim().is_empty()));
        match role {
            "user" => self.push(Role::User, blocks),
            "assistant" => {
                if blocks
                    .iter()
                    .any(|b| matches!(b, ContentBlock::Image(_) | ContentBlock::Document(_)))
                {
                    return Err(bad(&cp, "assistant messages can only hold text"));
                }
                self.push(Role::Assistant, blocks)
            }
            "system" | "developer" => {
                for b in blocks {
                    match b {
                        ContentBlock::Text(t) => self.system.push(SystemBlock::Text(t)),
                        _ => return Err(bad(&cp, "system and developer messages can only hold text")),
                    }
                }
            }
            other => {
                return Err(bad(
                    format!("{p}.role"),
                    format!("`{p}.role` must be user, assistant, system or developer, not {other:?}"),
                ))
            }
        }
        Ok(())
    }
}

/// One content part of a message or function output.
fn part_block(part: &Value, p: &Path) -> R<Option<ContentBlock>> {
    let o = want_obj(part, p)?;
    let kind = want_str(o.get("type"), p.field("type"))?;
    Ok(Some(match kind {
        "input_text" | "output_text" | "text" => {
            ContentBlock::Text(want_str(o.get("text"), p.field("text"))?.to_string())
        }
        "refusal" => ContentBlock::Text(want_str(o.get("refusal"), p.field("refusal"))?.to_string()),
        "input_image" => {
            let ip = p.field("image_url");
            let url = match o.get("image_url") {
                Some(Value::String(u)) => u.as_str(),
                _ if o.get("file_id").is_some_and(|f| !f.is_null()) => {
                    return Err(unsupported(
                        format!("{p}.file_id"),
                        "file ids are not supported (this gateway has no Files API); send the image as a data URL",
                    ))
                }
                _ => return Err(bad(&ip, format!("`{p}.image_url` is required"))),
            };
            if !url.starts_with("data:") {
                return Err(unsupported(
                    &ip,
                    "only `data:` image URLs are supported (Bedrock takes image bytes, and this gateway fetches no URLs)",
                ));
            }
            let (mime, b64) = build::data_uri(url, &ip)?;
            ContentBlock::Image(build::image_block(mime, b64, &ip)?)
        }
        "input_file" => {
            let fp = p.field("file_data");
            let data =
                match o.get("file_data") {
                    Some(Value::String(d)) => d.as_str(),
                    _ => return Err(unsupported(
                        &fp,
                        "only `file_data` (a base64 data URL) is supported for files: this gateway has no Files API \
                         and fetches no URLs",
                    )),
                };
            let (mime, b64) = build::data_uri(data, &fp)?;
            let filename = o.get("filename").and_then(Value::as_str);
            ContentBlock::Document(build::document_block(mime, b64, filename, &fp)?)
        }
        other => {
            return Err(bad(
                format!("{p}.type"),
                format!("content parts of type {other:?} are not supported"),
            ))
        }
    }))
}

/// `tools` and `tool_choice`.
fn tools(req: &Map<String, Value>, cfg: &Config) -> R<(Vec<Tool>, ToolChoiceRequest)> {
    let drop = cfg.unsupported_params == UnsupportedParams::Drop;
    let mut names: Vec<String> = Vec::new();
    // The response echoes `tools` as sent, so the specs are read from a copy (they move their
    // schemas out).
    let mut copy = Map::new();
    if let Some(t) = req.get("tools") {
        copy.insert("tools".to_string(), t.clone());
    }
    let specs = fields::tools(&mut copy, cfg.limits.max_tools, Style::OpenAi, |o, p| {
        let kind = want_str(o.get("type"), p.field("type"))?;
        if kind != "function" && drop {
            // `unsupported_params: "drop"`: a tool Bedrock cannot run is not offered (Codex
            // CLI always sends `web_search` and a `namespace` of sub-agent tools).
            log::info!("bedrock-bridge: responses: dropped a {kind:?} tool");
            return Ok(None);
        }
        if kind != "function" {
            return Err(bad(
                format!("{p}.type"),
                format!(
                    "tools of type {kind:?} are not supported: Amazon Bedrock runs no built-in tools here; only \
                     `function` tools are (with `unsupported_params: \"drop\"` other tools are left out)"
                ),
            )
            .with_code("unsupported_tool_type"));
        }
        let spec = fields::tool_spec(o, p, "parameters", false, Style::OpenAi)?;
        if names.contains(&spec.name) {
            return Err(bad(format!("{p}.name"), format!("two tools are named {:?}", spec.name)));
        }
        names.push(spec.name.clone());
        Ok(Some(ToolEntry {
            spec,
            cache_point: false,
        }))
    })?;
    let choice = fields::openai_tool_choice(req, |o| {
        let kind = want_str(o.get("type"), "tool_choice.type")?;
        if kind != "function" {
            return Err(unsupported(
                "tool_choice.type",
                format!("`tool_choice` of type {kind:?} is not supported; use auto, required, none or a function"),
            ));
        }
        Ok(want_str(o.get("name"), "tool_choice.name")?.to_string())
    })?;
    Ok((specs, choice))
}

/// `text.format` json_object / json_schema → the JSON answer asked for, and the format to echo.
fn text_format(req: &Map<String, Value>) -> R<(Option<JsonAnswer>, Value)> {
    let mut text_echo = Map::new();
    text_echo.insert("type".into(), Value::from("text"));
    let Some(text) = given(req, "text") else {
        return Ok((None, Value::Object(text_echo)));
    };
    let text = want_obj(text, "text")?;
    for k in text.keys() {
        if !matches!(k.as_str(), "format" | "verbosity") {
            return Err(
                bad(format!("text.{k}"), format!("Unrecognized argument: text.{k}")).with_code("unknown_parameter")
            );
        }
    }
    if let Some(v) = given(text, "verbosity") {
        // Accepted and not translated: Bedrock models have no verbosity control.
        let v = want_str(Some(v), "text.verbosity")?;
        if !matches!(v, "low" | "medium" | "high") {
            return Err(bad("text.verbosity", "`text.verbosity` must be low, medium or high"));
        }
    }
    let Some(f) = given(text, "format") else {
        return Ok((None, Value::Object(text_echo)));
    };
    let fo = want_obj(f, "text.format")?;
    let kind = want_str(fo.get("type"), "text.format.type")?;
    let answer = match kind {
        "text" => return Ok((None, f.clone())),
        "json_object" => fields::json_object_answer(),
        "json_schema" => fields::json_schema_answer(fo, "text.format")?,
        other => {
            return Err(bad(
                "text.format.type",
                format!("`text.format.type` must be text, json_object or json_schema, not {other:?}"),
            ))
        }
    };
    Ok((Some(answer), f.clone()))
}
