//! The embeddings front door: OpenAI `POST /v1/embeddings` → Bedrock InvokeModel
//! (`/model/{id}/invoke`) for Amazon Titan Text Embeddings (v2, and v1 / G1) and Cohere Embed
//! (v3, v4), and the model's answer back as an OpenAI embeddings list.
//!
//! One filter invocation makes one upstream call, so:
//! - Cohere Embed takes up to 96 texts in one call: a list `input` is one batch.
//! - Titan takes one text per call: a list with more than one entry is refused with a 400
//!   (`code: "too_many_inputs"`) that says to send one request per input.
//!
//! Model limits are checked before sending: Titan 50,000 characters; Cohere v3 2,048
//! characters per text; Cohere 96 texts; `dimensions` only where the model can change them
//! (Titan v2: 256, 512, 1024; Cohere v4: 256, 512, 1024, 1536).
//! `encoding_format: "base64"` is little-endian float32, as OpenAI's SDKs decode it.
//! Usage: Titan reports `inputTextTokenCount`; Cohere's count comes from Bedrock's
//! `x-amzn-bedrock-input-token-count` response header.

use crate::bedrock::converse::encode_path_segment;
use crate::bedrock::events::EventSink;
use crate::config::{Api, Config, UnsupportedParams};
use crate::error::{ApiError, ErrorType};
use crate::front::fields::{self, Model, Param, Style};
use crate::front::{FrontDoor, Outbound, Reply, RequestContext};
use crate::meter::Answer;
use crate::openai::BedrockUsage;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Embedding model families served (the catalog knows which ids they are).
pub use crate::bedrock::catalog::EmbeddingFamily as Family;

/// The family of a Bedrock model id (inference profile ids and ARNs included).
pub(crate) fn family(model_id: &str) -> Option<Family> {
    crate::bedrock::catalog::embedding_family(model_id)
}

pub(crate) const TITAN_MAX_CHARS: usize = 50_000;
pub(crate) const COHERE_V3_MAX_CHARS: usize = 2_048;
pub(crate) const COHERE_MAX_TEXTS: usize = 96;
/// The header Bedrock puts the input token count in (InvokeModel).
pub(crate) const TOKEN_COUNT_HEADER: &str = "x-amzn-bedrock-input-token-count";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Float,
    Base64,
}

/// A translated embeddings request.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingsRequest {
    pub path: String,
    pub body: Vec<u8>,
    pub(crate) model_id: String,
    pub(crate) client_model: String,
    pub family: Family,
    pub encoding: Encoding,
    pub(crate) inputs: usize,
}

fn bad(param: &str, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_param(param, msg)
}

fn param_kind(name: &str) -> Option<Param> {
    matches!(
        name,
        "model" | "input" | "dimensions" | "encoding_format" | "user" | "input_type"
    )
    .then_some(Param::Handled)
}

/// Translate an OpenAI embeddings request body.
pub fn translate(body: &[u8], cfg: &Config) -> Result<EmbeddingsRequest, ApiError> {
    let req = &fields::parse_body(body)?;
    let drop = cfg.unsupported_params == UnsupportedParams::Drop;
    fields::check_params(req, drop, param_kind)?;
    let Model {
        client: client_model,
        id: model_id,
        api,
    } = fields::model(req, cfg, Style::OpenAi)?;
    let fam = match family(&model_id) {
        Some(f) if api == Api::Converse => f,
        _ => {
            return Err(bad(
                "model",
                format!(
                    "`{client_model}` is not an embedding model this gateway serves (Amazon Titan Text Embeddings \
                     v1/v2, Cohere Embed v3/v4)"
                ),
            )
            .with_code("model_not_found"))
        }
    };
    let inputs = read_inputs(req)?;
    let opts = read_options(req)?;
    let body = match fam {
        Family::TitanV1 | Family::TitanV2 => titan_body(&model_id, fam, &inputs, opts.dimensions)?,
        Family::CohereV3 | Family::CohereV4 => cohere_body(&model_id, fam, &inputs, &opts)?,
    };
    let body = serde_json::to_vec(&body).map_err(|e| {
        ApiError::new(
            500,
            ErrorType::Server,
            format!("could not encode the Bedrock request: {e}"),
        )
    })?;
    Ok(EmbeddingsRequest {
        path: format!("/model/{}/invoke", encode_path_segment(&model_id)),
        body,
        model_id,
        client_model,
        family: fam,
        encoding: opts.encoding,
        inputs: inputs.len(),
    })
}

/// `input`: one string or an array of non-empty strings.
fn read_inputs(req: &Map<String, Value>) -> Result<Vec<&str>, ApiError> {
    let inputs: Vec<&str> = match req.get("input") {
        None | Some(Value::Null) => {
            return Err(bad("input", "you must provide an input parameter").with_code("missing_required_parameter"))
        }
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => {
            let mut out = Vec::with_capacity(a.len());
            for x in a {
                match x {
                    Value::String(s) => out.push(s.as_str()),
                    _ => return Err(bad(
                        "input",
                        "`input` must be a string or an array of strings (token arrays are not supported by Bedrock)",
                    )),
                }
            }
            out
        }
        Some(_) => return Err(bad("input", "`input` must be a string or an array of strings")),
    };
    if inputs.is_empty() {
        return Err(bad("input", "`input` must not be empty"));
    }
    if let Some(i) = inputs.iter().position(|s| s.is_empty()) {
        return Err(bad(
            "input",
            format!("`input[{i}]` is empty; Bedrock cannot embed an empty string"),
        ));
    }
    Ok(inputs)
}

/// The request options besides the input.
struct Options<'a> {
    encoding: Encoding,
    dimensions: Option<u64>,
    /// Cohere's `input_type` (`search_document` by default).
    input_type: &'a str,
}

/// `encoding_format`, `dimensions`, `user` (checked, not sent) and `input_type`.
fn read_options(req: &Map<String, Value>) -> Result<Options<'_>, ApiError> {
    let encoding = match req.get("encoding_format") {
        None | Some(Value::Null) => Encoding::Float,
        Some(Value::String(s)) if s == "float" => Encoding::Float,
        Some(Value::String(s)) if s == "base64" => Encoding::Base64,
        Some(_) => return Err(bad("encoding_format", "`encoding_format` must be `float` or `base64`")),
    };
    let dimensions = match req.get("dimensions") {
        None | Some(Value::Null) => None,
        Some(d) => Some(
            d.as_u64()
                .ok_or_else(|| bad("dimensions", "`dimensions` must be a positive integer"))?,
        ),
    };
    if let Some(u) = req.get("user").filter(|u| !u.is_null()) {
        if !u.is_string() {
            return Err(bad("user", "`user` must be a string"));
        }
    }
    let input_type = match req.get("input_type") {
        None | Some(Value::Null) => "search_document",
        Some(Value::String(s))
            if matches!(
                s.as_str(),
                "search_document" | "search_query" | "classification" | "clustering"
            ) =>
        {
            s
        }
        Some(_) => {
            return Err(bad(
                "input_type",
                "`input_type` must be search_document, search_query, classification or clustering",
            ))
        }
    };

    Ok(Options {
        encoding,
        dimensions,
        input_type,
    })
}

/// Titan's body: one text, `dimensions` (v2 only) with normalised vectors.
fn titan_body(model_id: &str, fam: Family, inputs: &[&str], dimensions: Option<u64>) -> Result<Value, ApiError> {
    if inputs.len() > 1 {
        return Err(bad(
            "input",
            format!(
                "{model_id} embeds one text per call and this gateway makes one Bedrock call per request: \
                 send {} requests with one input each",
                inputs.len()
            ),
        )
        .with_code("too_many_inputs"));
    }
    let text = inputs.first().copied().unwrap_or("");
    if text.chars().count() > TITAN_MAX_CHARS {
        return Err(bad(
            "input",
            format!("`input` is longer than Titan's {TITAN_MAX_CHARS} characters"),
        )
        .with_code("context_length_exceeded"));
    }
    let mut b = Map::new();
    b.insert("inputText".into(), Value::from(text));
    if let Some(d) = dimensions {
        if fam == Family::TitanV1 || !matches!(d, 256 | 512 | 1024) {
            return Err(bad("dimensions", dims_message(model_id, fam)));
        }
        b.insert("dimensions".into(), Value::from(d));
        b.insert("normalize".into(), Value::Bool(true));
    }
    Ok(Value::Object(b))
}

/// Cohere's body: up to 96 texts (v3: 2,048 characters each), `output_dimension` (v4 only).
fn cohere_body(model_id: &str, fam: Family, inputs: &[&str], opts: &Options<'_>) -> Result<Value, ApiError> {
    if inputs.len() > COHERE_MAX_TEXTS {
        return Err(bad(
            "input",
            format!(
                "{model_id} takes at most {COHERE_MAX_TEXTS} texts per request, not {}",
                inputs.len()
            ),
        )
        .with_code("too_many_inputs"));
    }
    if fam == Family::CohereV3 {
        if let Some(i) = inputs.iter().position(|s| s.chars().count() > COHERE_V3_MAX_CHARS) {
            return Err(bad(
                "input",
                format!("`input[{i}]` is longer than Cohere Embed v3's {COHERE_V3_MAX_CHARS} characters"),
            )
            .with_code("context_length_exceeded"));
        }
    }
    let mut b = json!({"texts": inputs, "input_type": opts.input_type, "embedding_types": ["float"]});
    if let Some(d) = opts.dimensions {
        if fam == Family::CohereV3 || !matches!(d, 256 | 512 | 1024 | 1536) {
            return Err(bad("dimensions", dims_message(model_id, fam)));
        }
        if let Some(o) = b.as_object_mut() {
            o.insert("output_dimension".into(), Value::from(d));
        }
    }
    Ok(b)
}

fn dims_message(model_id: &str, fam: Family) -> String {
    match fam {
        Family::TitanV2 => format!("`dimensions` for {model_id} must be 256, 512 or 1024"),
        Family::CohereV4 => format!("`dimensions` for {model_id} must be 256, 512, 1024 or 1536"),
        _ => format!("{model_id} does not support `dimensions`"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TitanOut {
    embedding: Option<Vec<f64>>,
    #[serde(default)]
    input_text_token_count: Option<u64>,
}

#[derive(Deserialize)]
struct ByType {
    #[serde(default)]
    float: Option<Vec<Vec<f64>>>,
}

#[derive(Deserialize)]
struct TitanByType {
    #[serde(default)]
    float: Option<Vec<f64>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CohereEmbeddings {
    Floats(Vec<Vec<f64>>),
    ByType(ByType),
}

#[derive(Deserialize)]
struct CohereOut {
    embeddings: CohereEmbeddings,
}

/// Bedrock's InvokeModel answer → the OpenAI embeddings list. `header_tokens` is Bedrock's
/// `x-amzn-bedrock-input-token-count`, when the shell saw it.
pub fn translate_response(
    body: &[u8],
    fam: Family,
    encoding: Encoding,
    model: &str,
    inputs: usize,
    header_tokens: Option<u64>,
) -> Result<Answer, ApiError> {
    let malformed =
        |e: &dyn std::fmt::Display| ApiError::bad_upstream(format_args!("malformed embeddings response: {e}"));
    let (vectors, body_tokens) = match fam {
        Family::TitanV1 | Family::TitanV2 => {
            // `embeddingsByType.float` is a single vector for Titan.
            let v: Value = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
            let by_type = v
                .get("embeddingsByType")
                .and_then(|b| serde_json::from_value::<TitanByType>(b.clone()).ok())
                .and_then(|b| b.float);
            let t: TitanOut = serde_json::from_value(v).map_err(|e| malformed(&e))?;
            let e = t
                .embedding
                .or(by_type)
                .ok_or_else(|| malformed(&"no `embedding` in Titan's answer"))?;
            (vec![e], t.input_text_token_count)
        }
        Family::CohereV3 | Family::CohereV4 => {
            let c: CohereOut = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
            let vs = match c.embeddings {
                CohereEmbeddings::Floats(v) => v,
                CohereEmbeddings::ByType(b) => b
                    .float
                    .ok_or_else(|| malformed(&"no float embeddings in Cohere's answer"))?,
            };
            (vs, None)
        }
    };
    if vectors.len() != inputs {
        return Err(malformed(&format_args!(
            "{} embeddings for {inputs} inputs",
            vectors.len()
        )));
    }
    let counted = body_tokens.or(header_tokens);
    let tokens = counted.unwrap_or(0);
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let embedding = match encoding {
                Encoding::Float => Value::from(v),
                Encoding::Base64 => {
                    let mut bytes = Vec::with_capacity(v.len() * 4);
                    for x in v {
                        bytes.extend_from_slice(&(x as f32).to_le_bytes());
                    }
                    Value::from(base64::engine::general_purpose::STANDARD.encode(bytes))
                }
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let out = json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    });
    Ok(Answer {
        body: serde_json::to_vec(&out).map_err(|e| malformed(&e))?,
        // Embeddings use input tokens only, counted like any other request's.
        usage: counted.map(|n| BedrockUsage {
            input_tokens: n,
            total_tokens: Some(n),
            ..BedrockUsage::default()
        }),
    })
}

pub(crate) struct EmbeddingsFront;

pub(crate) static EMBEDDINGS: EmbeddingsFront = EmbeddingsFront;

impl FrontDoor for EmbeddingsFront {
    fn name(&self) -> &'static str {
        "embeddings"
    }

    fn translate(&self, body: &[u8], ctx: &RequestContext<'_>) -> Result<Outbound, ApiError> {
        let r = translate(body, ctx.config)?;
        Ok(Outbound {
            path: r.path,
            body: r.body,
            stream: false,
            client_model: r.client_model.clone(),
            model_id: r.model_id,
            reply: Box::new(EmbeddingsReply {
                family: r.family,
                encoding: r.encoding,
                model: r.client_model,
                inputs: r.inputs,
                token_count: None,
            }),
            notes: Vec::new(),
            service: Default::default(),
            headers: Vec::new(),
        })
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
}

/// The response side of an embeddings request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EmbeddingsReply {
    pub(crate) family: Family,
    pub(crate) encoding: Encoding,
    pub(crate) model: String,
    pub(crate) inputs: usize,
    /// `x-amzn-bedrock-input-token-count`, kept from Bedrock's response headers.
    pub(crate) token_count: Option<u64>,
}

/// Embeddings never stream: an eventstream answer is reported as one OpenAI error.
struct NoStream(bool);

impl EventSink for NoStream {
    fn event(&mut self, _ev: crate::bedrock::events::Event<'_>, out: &mut Vec<u8>) {
        let e = ApiError::bad_upstream("Bedrock answered an embeddings request with an event stream");
        self.fail(&e, out);
    }
    fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        if !self.0 {
            self.0 = true;
            out.extend_from_slice(&e.to_json());
        }
    }
    fn finish(&mut self, out: &mut Vec<u8>) {
        let e = ApiError::bad_upstream("Bedrock answered an embeddings request with an event stream");
        self.fail(&e, out);
    }
    fn is_terminated(&self) -> bool {
        self.0
    }
}

impl Reply for EmbeddingsReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        Box::new(NoStream(false))
    }

    fn on_response_headers(&mut self, header: &dyn Fn(&str) -> Option<String>) {
        self.token_count = header(TOKEN_COUNT_HEADER).and_then(|v| v.trim().parse::<u64>().ok());
    }

    fn translate_json(&self, body: &[u8]) -> Result<Answer, ApiError> {
        translate_response(
            body,
            self.family,
            self.encoding,
            &self.model,
            self.inputs,
            self.token_count,
        )
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }

    fn stream_content_type(&self) -> &'static str {
        "application/json"
    }
}
