//! `ResponsesReply`: the response side of one Responses API request.

use super::response::{self, Meta};
use super::stream::ResponsesSink;
use crate::bedrock::events::EventSink;
use crate::bedrock::output;
use crate::error::ApiError;
use crate::front::Reply;
use crate::meter::Answer;

/// Everything decided at request time that the response side needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResponsesReply {
    pub meta: Meta,
    /// Most bytes of text a streamed response holds for its `.done` events.
    pub max_bytes: usize,
}

impl Reply for ResponsesReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        Box::new(ResponsesSink::new(self.meta, self.max_bytes))
    }

    fn translate_json(&self, body: &[u8]) -> Result<Answer, ApiError> {
        let o = output::parse(body)?;
        Ok(Answer {
            body: response::translate(&o, &self.meta)?,
            usage: o.usage,
        })
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
}
