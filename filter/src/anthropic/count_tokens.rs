//! `POST /v1/messages/count_tokens` → Bedrock CountTokens
//! (`POST /model/{id}/count-tokens` with `{"input":{"converse":{…}}}`), answered as Anthropic's
//! `{"input_tokens": N}`. The body is validated exactly as for `/v1/messages` (`max_tokens` is
//! optional here, as in Anthropic's API). A model configured `api: mantle` is counted by Bedrock
//! Mantle's own count_tokens ([`MANTLE_PATH`]).

use super::{error, request};
use crate::bedrock::converse::encode_path_segment;
use crate::bedrock::events::EventSink;
use crate::bedrock::models;
use crate::error::ApiError;
use crate::front::{FrontDoor, Outbound, Reply, RequestContext};
use crate::meter::Answer;
use serde::Serialize;
use serde_json::{Map, Value};

pub(crate) struct CountTokensFront;

/// Anthropic's count_tokens on Bedrock Mantle, for a model configured `api: mantle`: AWS
/// directs Claude models that bedrock-runtime's CountTokens does not serve to "Anthropic's
/// `count_tokens` API on the `bedrock-mantle` endpoint"
/// (<https://docs.aws.amazon.com/bedrock/latest/userguide/count-tokens.html>), under the Messages
/// API's base `/anthropic` (<https://docs.aws.amazon.com/bedrock/latest/userguide/inference-messages-api.html>;
/// Anthropic's path is `/v1/messages/count_tokens`, <https://docs.anthropic.com/en/api/messages-count-tokens>).
/// The body goes as the client sent it (model mapped) and the answer, `{"input_tokens": N}`,
/// comes back as it is: no usage is metered, as for the Converse count.
pub(crate) const MANTLE_PATH: &str = "/anthropic/v1/messages/count_tokens";

pub(crate) static COUNT_TOKENS: CountTokensFront = CountTokensFront;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConverseTokens<'a> {
    #[serde(skip_serializing_if = "Map::is_empty")]
    additional_model_request_fields: &'a Map<String, Value>,
    messages: &'a [crate::bedrock::converse::Message],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    system: &'a [crate::bedrock::converse::SystemBlock],
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: &'a Option<crate::bedrock::converse::ToolConfig>,
}

/// `{"input": {"converse": …}}`.
#[derive(Serialize)]
struct CountTokensBody<'a> {
    input: CountInput<'a>,
}

#[derive(Serialize)]
struct CountInput<'a> {
    converse: ConverseTokens<'a>,
}

/// The CountTokens body and path for a count_tokens request body.
pub fn translate(
    body: &[u8],
    cfg: &crate::config::Config,
    beta: Option<&str>,
) -> Result<(String, Vec<u8>, String), ApiError> {
    // Anthropic's count_tokens takes no max_tokens (nor stream): add the largest one so the
    // shared validation (thinking budget below max_tokens) passes.
    let mut v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_request(format!("the request body is not valid JSON: {e}")))?;
    if let Some(o) = v.as_object_mut() {
        if o.contains_key("max_tokens") || o.contains_key("stream") {
            let k = if o.contains_key("max_tokens") {
                "max_tokens"
            } else {
                "stream"
            };
            return Err(ApiError::invalid_param(
                k,
                format!("{k}: Extra inputs are not permitted"),
            ));
        }
        o.insert("max_tokens".into(), Value::from(models::MAX_TOKENS_LIMIT));
    }
    let bytes = serde_json::to_vec(&v).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    let req = request::translate(&bytes, cfg, beta)?;
    let c = &req.converse;
    let input = ConverseTokens {
        additional_model_request_fields: &c.additional_model_request_fields,
        messages: &c.messages,
        system: &c.system,
        tool_config: &c.tool_config,
    };
    // Written by fastjson: client tool schemas are kept as their text (`converse::Schema`).
    let body = fastjson::to_vec(
        &CountTokensBody {
            input: CountInput { converse: input },
        },
        bytes.len(),
    )
    .map_err(|e| ApiError::invalid_request(e.to_string()))?;
    let path = format!("/model/{}/count-tokens", encode_path_segment(&c.model_id));
    Ok((path, body, req.client_model))
}

impl FrontDoor for CountTokensFront {
    fn name(&self) -> &'static str {
        "count_tokens"
    }

    fn translate(&self, body: &[u8], ctx: &RequestContext<'_>) -> Result<Outbound, ApiError> {
        if let Some(mantle) = crate::bedrock::passthrough::mantle(body, ctx, crate::sse_usage::Dialect::Anthropic) {
            return mantle.map(|out| Outbound {
                path: MANTLE_PATH.to_string(),
                stream: false,
                ..out
            });
        }
        let beta = (ctx.header)("anthropic-beta");
        let (path, body, client_model) = translate(body, ctx.config, beta.as_deref())?;
        let model_id = ctx.config.resolve_model(&client_model).0.to_string();
        Ok(Outbound {
            path,
            body,
            stream: false,
            client_model,
            model_id,
            reply: Box::new(CountTokensReply),
            notes: Vec::new(),
            service: Default::default(),
            headers: Vec::new(),
        })
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        error::body(e)
    }
}

pub(crate) struct CountTokensReply;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Counted {
    input_tokens: u64,
}

impl Reply for CountTokensReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        // CountTokens never streams; a stream here is a broken upstream.
        Box::new(super::stream::MessagesSink::new("msg_count_tokens", ""))
    }

    /// Counting uses no tokens: the answer reports no usage (the count is not charged to the
    /// token budget nor added to `gen_ai.client.token.usage`; the request is metered like any
    /// other, as operation `count_tokens`).
    fn translate_json(&self, body: &[u8]) -> Result<Answer, ApiError> {
        let c: Counted = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_upstream(format_args!("malformed CountTokens response: {e}")))?;
        Ok(Answer {
            body: format!("{{\"input_tokens\":{}}}", c.input_tokens).into_bytes(),
            usage: None,
        })
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        error::body(e)
    }
}
