//! Client JSON that every front door reads the same way: the `model` (validated and resolved
//! through the configuration) and the `tools` list (array, count limit, per-entry object, tool
//! specs). The door passes its [`Style`], how its API names a field (`tools[0]` or `tools.0`)
//! and words a 400, and reads its own entry shape; the checks themselves are written once here.

use crate::bedrock::build::{self, ToolChoiceRequest};
use crate::bedrock::converse::{CachePoint, InferenceConfig, Schema, ServiceTier, Tool, ToolSpec};
use crate::bedrock::models::{JsonAnswer, JSON_TOOL_NAME, MAX_TOKENS_LIMIT};
use crate::config::{Api, Config};
use crate::error::{ApiError, ErrorType};
use fastjson::read::Step;
use serde_json::{Map, Value};
use std::fmt::Display;

type R<T> = Result<T, ApiError>;

/// How a front door's API writes the field paths and messages of its 400s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// OpenAI (chat completions, Responses, embeddings): `tools[0].name`, "`tools` must be …".
    OpenAi,
    /// Anthropic Messages: `tools.0.name`, "tools: must be …".
    Anthropic,
}

/// A field's path as a 400 names it (`messages.3.content.0.text`, `tools[2].function.name`),
/// written out only when an error is: reading a valid request builds no path strings (a 300 KiB
/// agent request has thousands of fields).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'a> {
    Top(&'a str),
    /// `{parent}.{name}`.
    Field(&'a Path<'a>, &'a str),
    /// Entry `i` of the list at the parent path, in the door's [`Style`].
    Index(&'a Path<'a>, usize, Style),
}

impl<'a> Path<'a> {
    pub(crate) fn field(&'a self, name: &'a str) -> Path<'a> {
        Path::Field(self, name)
    }

    pub(crate) fn at(&'a self, i: usize, style: Style) -> Path<'a> {
        Path::Index(self, i, style)
    }
}

impl Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Top(s) => f.write_str(s),
            Path::Field(p, name) => write!(f, "{p}.{name}"),
            Path::Index(p, i, Style::OpenAi) => write!(f, "{p}[{i}]"),
            Path::Index(p, i, Style::Anthropic) => write!(f, "{p}.{i}"),
        }
    }
}

impl<'a> From<&'a str> for Path<'a> {
    fn from(s: &'a str) -> Self {
        Path::Top(s)
    }
}

impl<'a> From<&'a String> for Path<'a> {
    fn from(s: &'a String) -> Self {
        Path::Top(s)
    }
}

impl<'a> From<&Path<'a>> for Path<'a> {
    fn from(p: &Path<'a>) -> Self {
        *p
    }
}

impl From<&Path<'_>> for String {
    fn from(p: &Path<'_>) -> Self {
        p.to_string()
    }
}

/// "a string", "an object", … for error messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Style {
    /// A 400 about `param`: "`param` {what}" (OpenAI) or "param: {what}" (Anthropic).
    pub(crate) fn bad<'p>(self, param: impl Into<Path<'p>>, what: impl Display) -> ApiError {
        let param = param.into();
        let msg = match self {
            Style::OpenAi => format!("`{param}` {what}"),
            Style::Anthropic => format!("{param}: {what}"),
        };
        ApiError::invalid_param(param.to_string(), msg)
    }

    /// A 400 for a required field that is absent.
    pub(crate) fn required<'p>(self, param: impl Into<Path<'p>>) -> ApiError {
        match self {
            Style::OpenAi => self.bad(param, "is required").with_code("missing_required_parameter"),
            Style::Anthropic => self.bad(param, "Field required"),
        }
    }

    /// A 400 for a value of the wrong JSON type.
    fn not_a(self, param: Path<'_>, want: &str, v: &Value) -> ApiError {
        self.bad(param, format_args!("must be {want}, not {}", type_name(v)))
    }

    /// A string field: absent is [`Style::required`] (so is `null` for Anthropic).
    pub(crate) fn string<'a, 'p>(self, v: Option<&'a Value>, param: impl Into<Path<'p>>) -> R<&'a str> {
        match v {
            Some(Value::String(s)) => Ok(s),
            None => Err(self.required(param)),
            Some(Value::Null) if self == Style::Anthropic => Err(self.required(param)),
            Some(other) => Err(self.not_a(param.into(), "a string", other)),
        }
    }

    pub(crate) fn object<'a, 'p>(self, v: &'a Value, param: impl Into<Path<'p>>) -> R<&'a Map<String, Value>> {
        match v {
            Value::Object(m) => Ok(m),
            other => Err(self.not_a(param.into(), "an object", other)),
        }
    }

    pub(crate) fn array<'a, 'p>(self, v: &'a Value, param: impl Into<Path<'p>>) -> R<&'a Vec<Value>> {
        match v {
            Value::Array(a) => Ok(a),
            other => Err(self.not_a(param.into(), "an array", other)),
        }
    }

    /// [`Style::object`], for a door that moves the values out (no copy of what it forwards).
    pub(crate) fn object_mut<'a, 'p>(
        self,
        v: &'a mut Value,
        param: impl Into<Path<'p>>,
    ) -> R<&'a mut Map<String, Value>> {
        match v {
            Value::Object(m) => Ok(m),
            other => Err(self.not_a(param.into(), "an object", other)),
        }
    }

    /// [`Style::array`], for a door that moves the values out.
    pub(crate) fn array_mut<'a, 'p>(self, v: &'a mut Value, param: impl Into<Path<'p>>) -> R<&'a mut Vec<Value>> {
        match v {
            Value::Array(a) => Ok(a),
            other => Err(self.not_a(param.into(), "an array", other)),
        }
    }
}

/// A string in the OpenAI doors' wording ([`Style::string`]).
pub(crate) fn want_str<'a, 'p>(v: Option<&'a Value>, param: impl Into<Path<'p>>) -> R<&'a str> {
    Style::OpenAi.string(v, param)
}

pub(crate) fn want_obj<'a, 'p>(v: &'a Value, param: impl Into<Path<'p>>) -> R<&'a Map<String, Value>> {
    Style::OpenAi.object(v, param)
}

pub(crate) fn want_arr<'a, 'p>(v: &'a Value, param: impl Into<Path<'p>>) -> R<&'a Vec<Value>> {
    Style::OpenAi.array(v, param)
}

pub(crate) fn want_bool<'p>(v: &Value, param: impl Into<Path<'p>>) -> R<bool> {
    v.as_bool()
        .ok_or_else(|| Style::OpenAi.bad(param, format_args!("must be a boolean, not {}", type_name(v))))
}

/// OpenAI's `service_tier` (chat completions and Responses alike) → Converse `serviceTier`.
/// `flex`, `priority` and `default` are Bedrock tiers of the same names (Bedrock API reference,
/// ServiceTier: `priority | default | flex | reserved`); `auto` sends none, so Bedrock serves its
/// default (standard) tier. `scale` (OpenAI's pre-purchased capacity) and anything else has no
/// on-demand match: a 400, or dropped with `"unsupported_params": "drop"`.
pub(crate) fn openai_service_tier(req: &Map<String, Value>, drop: bool) -> R<Option<ServiceTier>> {
    let Some(s) = given(req, "service_tier") else {
        return Ok(None);
    };
    Ok(match want_str(Some(s), "service_tier")? {
        "auto" => None,
        tier @ ("flex" | "priority" | "default") => Some(ServiceTier { kind: tier.to_string() }),
        _ if drop => None,
        _ => {
            let msg = "`service_tier` must be auto, default, flex or priority on Amazon Bedrock";
            return Err(ApiError::invalid_param("service_tier", msg).with_code("unsupported_parameter"));
        }
    })
}

/// A number within `lo..=hi`; `range` is the same bounds as text (formatting floats would pull
/// float printing code into the module for one error message).
pub(crate) fn want_f64(v: &Value, param: &str, lo: f64, hi: f64, range: &str) -> R<f64> {
    match v.as_f64() {
        Some(x) if (lo..=hi).contains(&x) => Ok(x),
        _ => Err(Style::OpenAi.bad(param, format_args!("must be a number from {range}"))),
    }
}

/// A token limit: an integer from 1 to Bedrock's 32-bit `maxTokens` maximum.
pub(crate) fn want_tokens(v: &Value, param: &str) -> R<u64> {
    match v.as_u64() {
        Some(n) if (1..=MAX_TOKENS_LIMIT).contains(&n) => Ok(n),
        _ => Err(Style::OpenAi.bad(param, "must be an integer from 1 to 2147483647")),
    }
}

/// OpenAI's `temperature` (0 to 2) and `top_p` (0 to 1) into `ic`. The pipeline holds
/// `temperature` to Converse's 0 to 1.
pub(crate) fn openai_sampling(req: &Map<String, Value>, ic: &mut InferenceConfig) -> R<()> {
    if let Some(t) = given(req, "temperature") {
        ic.temperature = Some(want_f64(t, "temperature", 0.0, 2.0, "0 to 2")?);
    }
    if let Some(p) = given(req, "top_p") {
        ic.top_p = Some(want_f64(p, "top_p", 0.0, 1.0, "0 to 1")?);
    }
    Ok(())
}

/// `o[key]` unless absent or `null`.
pub(crate) fn given<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

/// [`given`], mutably.
pub(crate) fn given_mut<'a>(o: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Value> {
    o.get_mut(key).filter(|v| !v.is_null())
}

/// The string at `v`, moved out (an empty string left behind); empty for anything else. For
/// values already checked to be strings.
pub(crate) fn take_str(v: Option<&mut Value>) -> String {
    match v {
        Some(Value::String(s)) => std::mem::take(s),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Body and top-level fields

/// The JSON value in `bytes`, as serde_json reads it (by `fastjson`'s reader when it can).
pub(crate) fn json_value(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    fastjson::parse(bytes).map_or_else(|| serde_json::from_slice(bytes), Ok)
}

/// The request body, which must be a JSON object.
pub(crate) fn parse_body(body: &[u8]) -> R<Map<String, Value>> {
    parse_body_keeping(body, None)
}

/// Where each chat front door's client tools hold their JSON schemas: [`parse_body_keeping`]
/// keeps those as text, which [`tool_spec`] sends to Bedrock as it is.
pub(crate) const CHAT_SCHEMAS: &[Step] = &[
    Step::Key("tools"),
    Step::Each,
    Step::Key("function"),
    Step::Key("parameters"),
];
pub(crate) const RESPONSES_SCHEMAS: &[Step] = &[Step::Key("tools"), Step::Each, Step::Key("parameters")];
pub(crate) const MESSAGES_SCHEMAS: &[Step] = &[Step::Key("tools"), Step::Each, Step::Key("input_schema")];

/// [`parse_body`], the objects at path `keep` (if any) kept as their text (`fastjson::read`).
pub(crate) fn parse_body_keeping(body: &[u8], keep: Option<&[Step]>) -> R<Map<String, Value>> {
    let read = fastjson::read::parse_keeping(body, keep).map_or_else(|| serde_json::from_slice(body), Ok);
    match read {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::invalid_request("the request body must be a JSON object")),
        Err(e) => {
            Err(ApiError::invalid_request(format!("the request body is not valid JSON: {e}")).with_code("invalid_json"))
        }
    }
}

/// What a front door does with one top-level field of its API.
pub(crate) enum Param {
    /// Translated (or checked) by the door.
    Handled,
    /// Accepted when it has this harmless default value; otherwise unsupported.
    DefaultOnly(fn(&Value) -> bool),
}

/// Refuse (or, with `unsupported_params: "drop"`, ignore) the fields `kind` does not know
/// (`unknown_parameter`) or that are not at their default (`unsupported_parameter`).
pub(crate) fn check_params(req: &Map<String, Value>, drop: bool, kind: fn(&str) -> Option<Param>) -> R<()> {
    for (k, val) in req {
        match kind(k) {
            Some(Param::Handled) => {}
            Some(Param::DefaultOnly(ok)) if ok(val) => {}
            _ if drop => {}
            Some(_) => {
                return Err(ApiError::invalid_param(
                    k.as_str(),
                    format!("`{k}` is not supported by Amazon Bedrock (only its default value is accepted)"),
                )
                .with_code("unsupported_parameter"))
            }
            None => {
                return Err(
                    ApiError::invalid_param(k.as_str(), format!("Unrecognized request argument supplied: {k}"))
                        .with_code("unknown_parameter"),
                )
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Model

/// The model a request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Model {
    /// The client's name (echoed in responses).
    pub client: String,
    /// The Bedrock model id, inference profile id or ARN it resolves to.
    pub id: String,
    /// The API configured for it.
    pub api: Api,
}

/// `model`: a non-empty name without control characters (at most 2048 bytes), resolved through
/// the configuration. The ids `.` and `..` are refused: they are the only segments
/// percent-encoding cannot keep inside `/model/{id}/` (path normalisation, Envoy's or a proxy's,
/// would resolve them).
pub(crate) fn model(req: &Map<String, Value>, cfg: &Config, style: Style) -> R<Model> {
    let client = match (style, req.get("model")) {
        (Style::OpenAi, None) => {
            return Err(ApiError::invalid_param("model", "you must provide a model parameter")
                .with_code("missing_required_parameter"))
        }
        (_, v) => style.string(v, "model")?.to_string(),
    };
    if client.trim().is_empty() || client.len() > 2048 || client.chars().any(char::is_control) {
        return Err(style.bad("model", "must be a non-empty model name without control characters"));
    }
    let (id, api) = cfg.resolve_model(&client);
    let id = id.to_string();
    if id == "." || id == ".." {
        return Err(match style {
            Style::OpenAi => {
                ApiError::invalid_param("model", format!("`{id}` is not a valid model id")).with_code("model_not_found")
            }
            Style::Anthropic => ApiError::new(
                404,
                ErrorType::NotFound,
                format!("model: {id:?} is not a valid model id"),
            ),
        });
    }
    Ok(Model { client, id, api })
}

/// [`model`], refused when it is configured with `api: openai`: Bedrock's OpenAI-compatible
/// endpoint serves chat completions only. `api_name` names this door's API in the message.
pub(crate) fn converse_model(req: &Map<String, Value>, cfg: &Config, style: Style, api_name: &str) -> R<Model> {
    let m = model(req, cfg, style)?;
    if m.api == Api::Openai {
        return Err(style
            .bad(
                "model",
                format_args!(
                    "{:?} is served through Bedrock's OpenAI-compatible chat completions endpoint, which has no \
                     {api_name}: use POST /v1/chat/completions for it",
                    m.client
                ),
            )
            .with_code("unsupported_parameter"));
    }
    Ok(m)
}

// ---------------------------------------------------------------------------------------------
// Tools

/// One entry of a client's `tools`, read from the door's own entry shape.
pub(crate) struct ToolEntry {
    pub spec: ToolSpec,
    /// A cache point follows the tool (the entry has `cache_control`).
    pub cache_point: bool,
}

/// `tools`: absent, `null` or an array of at most `max` objects, each read by `read` (given the
/// entry and its path). `read` returns `None` to leave an entry out (a tool Bedrock cannot run,
/// with `unsupported_params: "drop"`).
pub(crate) fn tools(
    req: &mut Map<String, Value>,
    max: usize,
    style: Style,
    mut read: impl FnMut(&mut Map<String, Value>, &Path) -> R<Option<ToolEntry>>,
) -> R<Vec<Tool>> {
    let mut out = Vec::new();
    let Some(t) = given_mut(req, "tools") else {
        return Ok(out);
    };
    let list = style.array_mut(t, "tools")?;
    if list.len() > max {
        return Err(style.bad(
            "tools",
            format_args!("has {} entries; this gateway accepts at most {max}", list.len()),
        ));
    }
    out.reserve(list.len());
    let top = Path::Top("tools");
    for (i, tool) in list.iter_mut().enumerate() {
        let p = top.at(i, style);
        let Some(entry) = read(style.object_mut(tool, p)?, &p)? else {
            continue;
        };
        out.push(Tool::ToolSpec(entry.spec));
        if entry.cache_point {
            out.push(Tool::CachePoint(CachePoint::DEFAULT));
        }
    }
    Ok(out)
}

/// A function tool's spec from `o` (at path `p`) holding `name`, `description` and the input
/// schema under `schema_key` (`parameters`, Anthropic's `input_schema`). Without a schema the
/// tool takes no parameters, unless `schema_required`. The name must be in Bedrock's alphabet;
/// `strict`, when given, a boolean. The schema and description are moved out of `o`.
pub(crate) fn tool_spec(
    o: &mut Map<String, Value>,
    p: &Path,
    schema_key: &str,
    schema_required: bool,
    style: Style,
) -> R<ToolSpec> {
    let name_param = p.field("name");
    let name = style.string(o.get("name"), name_param)?.to_string();
    match style {
        Style::OpenAi => build::check_tool_name(&name, &name_param)?,
        Style::Anthropic if !build::is_valid_tool_name(&name) => {
            return Err(style.bad(name_param, format_args!("must be {}", build::TOOL_NAME_CHARS)))
        }
        Style::Anthropic => {}
    }
    let schema_param = p.field(schema_key);
    let schema = match given_mut(o, schema_key) {
        None if schema_required => return Err(style.required(schema_param)),
        None => None,
        Some(s) => {
            let o = style.object_mut(s, schema_param)?;
            Some(match fastjson::read::take_kept(o) {
                Some(text) => Schema::Text(text),
                None => Schema::Value(Value::Object(std::mem::take(o))),
            })
        }
    };
    let description = match given_mut(o, "description") {
        None => None,
        Some(d) => {
            style.string(Some(d), p.field("description"))?;
            Some(take_str(Some(d)))
        }
    };
    let mut spec = build::function_tool(&name, description, schema, &name_param)?;
    // `strict: true` is kept for the pipeline, which sends it only to models with strict tools.
    if let Some(st) = given(o, "strict") {
        let st_param = p.field("strict");
        match st {
            Value::Bool(b) => spec.strict = b.then_some(true),
            _ => return Err(style.bad(st_param, format_args!("must be a boolean, not {}", type_name(st)))),
        }
    }
    Ok(spec)
}

/// A `json_object` answer: any JSON object.
pub(crate) fn json_object_answer() -> JsonAnswer {
    JsonAnswer {
        name: JSON_TOOL_NAME.to_string(),
        description: "Respond with a JSON object.".to_string(),
        schema: build::open_object_schema(),
        strict: false,
    }
}

/// A `json_schema` answer from `o` (at path `p`: chat's `response_format.json_schema`, the
/// Responses API's `text.format`) holding `name` (a tool name; [`JSON_TOOL_NAME`] when absent),
/// `schema` (any object when absent), `description` and `strict`.
pub(crate) fn json_schema_answer(o: &Map<String, Value>, p: &str) -> R<JsonAnswer> {
    let name_param = format!("{p}.name");
    let name = match given(o, "name") {
        Some(n) => want_str(Some(n), &name_param)?.to_string(),
        None => JSON_TOOL_NAME.to_string(),
    };
    if !build::is_valid_tool_name(&name) {
        return Err(ApiError::invalid_param(
            name_param,
            format!("the schema name must be {}", build::TOOL_NAME_CHARS),
        ));
    }
    let schema = match given(o, "schema") {
        None => build::open_object_schema(),
        Some(s) => Value::Object(want_obj(s, &format!("{p}.schema"))?.clone()),
    };
    let description = o
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("Respond with JSON that matches this schema.")
        .to_string();
    let strict = match given(o, "strict") {
        Some(st) => want_bool(st, &format!("{p}.strict"))?,
        None => false,
    };
    Ok(JsonAnswer {
        name,
        description,
        schema,
        strict,
    })
}

/// OpenAI's `tool_choice`: `auto`, `required`, `none`, or an object naming a function, whose
/// name `named` reads (chat: `{"function": {"name"}}`, Responses: `{"type": "function", "name"}`).
pub(crate) fn openai_tool_choice(
    req: &Map<String, Value>,
    named: impl FnOnce(&Map<String, Value>) -> R<String>,
) -> R<ToolChoiceRequest> {
    Ok(match given(req, "tool_choice") {
        None => ToolChoiceRequest::Unset,
        Some(Value::String(s)) => match s.as_str() {
            "auto" => ToolChoiceRequest::Auto,
            "required" => ToolChoiceRequest::Required,
            "none" => ToolChoiceRequest::None,
            other => {
                return Err(Style::OpenAi.bad(
                    "tool_choice",
                    format_args!("must be auto, required, none or a function, not {other:?}"),
                ))
            }
        },
        Some(Value::Object(o)) => ToolChoiceRequest::Named(named(o)?),
        Some(other) => {
            return Err(Style::OpenAi.bad(
                "tool_choice",
                format_args!("must be a string or an object, not {}", type_name(other)),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg() -> Config {
        let c = json!({"region": "us-east-1", "credentials": {"bearer_token": "t"}, "limits": {"max_tools": 2},
                       "models": {"dot": ".", "oai": {"id": "openai.gpt-oss-20b-1:0", "api": "openai"}}});
        Config::parse(c.to_string().as_bytes(), &|_| None).unwrap()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn err(r: R<impl std::fmt::Debug>) -> (u16, String, String, Option<String>) {
        let e = r.unwrap_err();
        (
            e.status,
            e.param.unwrap_or_default(),
            e.message,
            e.code.map(|c| c.to_string()),
        )
    }

    #[test]
    fn model_errors_in_each_style() {
        let c = cfg();
        let missing = err(model(&obj(json!({})), &c, Style::OpenAi));
        assert_eq!(missing.3.as_deref(), Some("missing_required_parameter"));
        assert_eq!(
            err(model(&obj(json!({})), &c, Style::Anthropic)).2,
            "model: Field required"
        );
        assert_eq!(
            err(model(&obj(json!({"model": 3})), &c, Style::OpenAi)).2,
            "`model` must be a string, not a number"
        );
        let dot = err(model(&obj(json!({"model": "dot"})), &c, Style::OpenAi));
        assert_eq!((dot.0, dot.3.as_deref()), (400, Some("model_not_found")));
        assert_eq!(err(model(&obj(json!({"model": "dot"})), &c, Style::Anthropic)).0, 404);
        assert!(model(&obj(json!({"model": " "})), &c, Style::OpenAi).is_err());
        let m = model(&obj(json!({"model": "oai"})), &c, Style::OpenAi).unwrap();
        assert_eq!((m.id.as_str(), m.api), ("openai.gpt-oss-20b-1:0", Api::Openai));
        let refused = err(converse_model(
            &obj(json!({"model": "oai"})),
            &c,
            Style::OpenAi,
            "Responses API",
        ));
        assert_eq!(refused.3.as_deref(), Some("unsupported_parameter"));
        assert!(refused.2.contains("no Responses API"), "{}", refused.2);
        let m = converse_model(&obj(json!({"model": "some.model-v1"})), &c, Style::OpenAi, "x").unwrap();
        assert_eq!((m.client.as_str(), m.id.as_str()), ("some.model-v1", "some.model-v1"));
    }

    fn read(style: Style) -> impl FnMut(&mut Map<String, Value>, &Path) -> R<Option<ToolEntry>> {
        move |o, p| {
            if o.get("skip").is_some() {
                return Ok(None);
            }
            Ok(Some(ToolEntry {
                spec: tool_spec(o, p, "input_schema", style == Style::Anthropic, style)?,
                cache_point: o.contains_key("cache"),
            }))
        }
    }

    #[test]
    fn tools_list_and_specs() {
        let mut req = obj(
            json!({"tools": [{"name": "a", "cache": 1, "input_schema": {"type": "object"}},
                                       {"name": "b", "skip": 1}]}),
        );
        let t = tools(&mut req, 2, Style::Anthropic, read(Style::Anthropic)).unwrap();
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(matches!(&t[0], Tool::ToolSpec(s) if s.name == "a"));
        assert!(matches!(t[1], Tool::CachePoint(_)));
        assert!(
            tools(&mut obj(json!({"tools": null})), 2, Style::OpenAi, read(Style::OpenAi))
                .unwrap()
                .is_empty()
        );
        let mut too_many = obj(json!({"tools": [{}, {}, {}]}));
        assert_eq!(
            err(tools(&mut too_many, 2, Style::OpenAi, read(Style::OpenAi))).2,
            "`tools` has 3 entries; this gateway accepts at most 2"
        );
        let e = err(tools(
            &mut obj(json!({"tools": [1]})),
            2,
            Style::Anthropic,
            read(Style::Anthropic),
        ));
        assert_eq!(
            (e.1.as_str(), e.2.as_str()),
            ("tools.0", "tools.0: must be an object, not a number")
        );
        let mut bad_name = obj(json!({"tools": [{"name": "a b"}]}));
        let e = err(tools(&mut bad_name, 2, Style::OpenAi, read(Style::OpenAi)));
        assert_eq!(
            (e.1.as_str(), e.2.as_str()),
            (
                "tools[0].name",
                "tool names must be 1-64 characters of a-z, A-Z, 0-9, _ and -"
            )
        );
        let e = err(tools(&mut bad_name, 2, Style::Anthropic, read(Style::Anthropic)));
        assert_eq!(e.2, "tools.0.name: must be 1-64 characters of a-z, A-Z, 0-9, _ and -");
        // Anthropic requires the schema; OpenAI's default is an empty object schema.
        let mut no_schema = obj(json!({"tools": [{"name": "f", "description": ""}]}));
        let e = err(tools(&mut no_schema, 2, Style::Anthropic, read(Style::Anthropic)));
        assert_eq!(
            (e.1.as_str(), e.2.as_str()),
            ("tools.0.input_schema", "tools.0.input_schema: Field required")
        );
        let t = tools(&mut no_schema, 2, Style::OpenAi, read(Style::OpenAi)).unwrap();
        let Some(Tool::ToolSpec(s)) = t.first() else {
            panic!("{t:?}")
        };
        assert_eq!(s.input_schema.json, json!({"type": "object", "properties": {}}));
        assert_eq!(s.description, None);
    }

    #[test]
    fn openai_tool_choice_forms() {
        let named = |o: &Map<String, Value>| Ok(o.get("name").and_then(Value::as_str).unwrap_or("").to_string());
        let choice = |v: Value| openai_tool_choice(&obj(json!({ "tool_choice": v })), named);
        assert_eq!(choice(json!("auto")).unwrap(), ToolChoiceRequest::Auto);
        assert_eq!(choice(json!("required")).unwrap(), ToolChoiceRequest::Required);
        assert_eq!(choice(json!("none")).unwrap(), ToolChoiceRequest::None);
        assert_eq!(choice(Value::Null).unwrap(), ToolChoiceRequest::Unset);
        assert_eq!(
            choice(json!({"name": "f"})).unwrap(),
            ToolChoiceRequest::Named("f".into())
        );
        assert_eq!(err(choice(json!("any"))).1, "tool_choice");
        assert!(err(choice(json!(1))).2.contains("not a number"));
    }

    #[test]
    fn paths_are_written_in_each_styles_form() {
        let top = Path::Top("messages");
        let (a, o) = (top.at(3, Style::Anthropic), top.at(3, Style::OpenAi));
        let (a, o) = (a.field("content"), o.field("tool_calls"));
        assert_eq!(
            a.at(0, Style::Anthropic).field("source.type").to_string(),
            "messages.3.content.0.source.type"
        );
        assert_eq!(
            o.at(1, Style::OpenAi).field("function.name").to_string(),
            "messages[3].tool_calls[1].function.name"
        );
        let one = json!(1);
        let e = Style::Anthropic.string(Some(&one), a.at(2, Style::Anthropic).field("text"));
        let (status, param, message, _) = err(e);
        assert_eq!((status, param.as_str()), (400, "messages.3.content.2.text"));
        assert_eq!(message, "messages.3.content.2.text: must be a string, not a number");
    }

    #[test]
    fn body_and_params() {
        assert_eq!(err(parse_body(b"{")).3.as_deref(), Some("invalid_json"));
        assert!(parse_body(b"[]").is_err());
        let kind = |k: &str| match k {
            "a" => Some(Param::Handled),
            "n" => Some(Param::DefaultOnly(|v| v.as_u64() == Some(1))),
            _ => None,
        };
        let req = |v: Value| obj(v);
        assert!(check_params(&req(json!({"a": 1, "n": 1})), false, kind).is_ok());
        assert_eq!(
            err(check_params(&req(json!({"n": 2})), false, kind)).3.as_deref(),
            Some("unsupported_parameter")
        );
        assert_eq!(
            err(check_params(&req(json!({"zz": 2})), false, kind)).3.as_deref(),
            Some("unknown_parameter")
        );
        assert!(check_params(&req(json!({"zz": 2, "n": 2})), true, kind).is_ok());
    }
}
