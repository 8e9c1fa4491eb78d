//! `ResponsesReply`: the response side of one Responses API request.

use super::response::{self, Meta};
use super::stream::ResponsesSink;
use crate::bedrock::events::EventSink;
use crate::error::ApiError;
use crate::front::Reply;

/// Everything decided at request time that the response side needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsesReply {
    pub meta: Meta,
    /// Most bytes of text a streamed response holds for its `.done` events.
    pub max_bytes: usize,
}

impl Reply for ResponsesReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        Box::new(ResponsesSink::new(self.meta, self.max_bytes))
    }

    fn translate_json(&self, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        response::translate(body, &self.meta)
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
}
