//! Bedrock's OpenAI-compatible chat completions endpoint (`api: openai` models): the client's
//! body is forwarded with only the model name mapped, and Bedrock's answer (JSON or SSE, already
//! in OpenAI's shape) goes back unchanged.

use super::events::{Event, EventSink};
use crate::error::{ApiError, ErrorType};
use crate::front::Reply;
use serde_json::{Map, Value};

/// The path of Bedrock's OpenAI-compatible chat completions endpoint.
pub const OPENAI_PATH: &str = "/openai/v1/chat/completions";

/// A request for the OpenAI-compatible endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct PassthroughRequest {
    pub client_model: String,
    pub model_id: String,
    /// The client asked for `stream: true`.
    pub stream: bool,
    /// The client's body with `model` replaced by `model_id`.
    pub body: Vec<u8>,
}

/// An OpenAI chat completions body (already parsed into `req`) for the OpenAI-compatible
/// endpoint. Only `messages` is checked (a non-empty array); everything else is Bedrock's to judge.
pub fn chat(req: &Map<String, Value>, client_model: String, model_id: String) -> Result<PassthroughRequest, ApiError> {
    if !matches!(req.get("messages"), Some(Value::Array(m)) if !m.is_empty()) {
        return Err(ApiError::invalid_param(
            "messages",
            "`messages` must be a non-empty array",
        ));
    }
    let stream = matches!(req.get("stream"), Some(Value::Bool(true)));
    let mut body = req.clone();
    body.insert("model".into(), Value::String(model_id.clone()));
    let body = serde_json::to_vec(&Value::Object(body))
        .map_err(|e| ApiError::new(500, ErrorType::Server, format!("could not encode the request: {e}")))?;
    Ok(PassthroughRequest {
        client_model,
        model_id,
        stream,
        body,
    })
}

/// The reply side of a passthrough request: Bedrock's answer is already the client's.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassthroughReply;

/// The sink of a passthrough reply. The exchange forwards passthrough bodies without decoding
/// them ([`Reply::passthrough`]), so this sees no events; if it ever does, it writes nothing.
#[derive(Debug, Default)]
struct NoSink {
    done: bool,
}

impl EventSink for NoSink {
    fn event(&mut self, _ev: Event<'_>, _out: &mut Vec<u8>) {}
    fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        if !self.done {
            out.extend_from_slice(&e.to_json());
            self.done = true;
        }
    }
    fn finish(&mut self, _out: &mut Vec<u8>) {
        self.done = true;
    }
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl Reply for PassthroughReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        Box::new(NoSink::default())
    }
    fn translate_json(&self, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        Ok(body.to_vec())
    }
    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
    fn passthrough(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_model_and_keeps_the_rest() {
        let req: Map<String, Value> =
            serde_json::from_str(r#"{"model":"oss","stream":true,"messages":[{"role":"user","content":"hi"}],"n":2}"#)
                .unwrap();
        let p = chat(&req, "oss".into(), "openai.gpt-oss-20b-1:0".into()).unwrap();
        assert!(p.stream);
        let b: Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(b["model"], "openai.gpt-oss-20b-1:0");
        assert_eq!(b["n"], 2);
        let empty: Map<String, Value> = serde_json::from_str(r#"{"model":"oss","messages":[]}"#).unwrap();
        assert_eq!(
            chat(&empty, "oss".into(), "x".into()).unwrap_err().param.as_deref(),
            Some("messages")
        );
        let r = PassthroughReply;
        assert!(r.passthrough());
        assert_eq!(r.translate_json(b"{\"a\":1}").unwrap(), b"{\"a\":1}");
    }
}
