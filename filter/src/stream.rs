//! Compatibility shim for `wasm.rs` until it calls the exchange: the chat stream now lives in
//! [`crate::chat::stream`] on top of [`crate::bedrock::events`]. Removed at merge.

use crate::bedrock::events;
use crate::chat::stream::ChatSink;
use crate::eventstream;

pub use crate::chat::reply::ChatReply as StreamOptions;

/// The chat stream pipeline under its old name.
#[derive(Debug)]
pub struct ResponseStream(events::ResponseStream<ChatSink>);

impl ResponseStream {
    pub fn new(opts: &StreamOptions, limits: eventstream::Limits) -> Self {
        ResponseStream(events::ResponseStream::new(ChatSink::new(opts.clone()), limits))
    }

    pub fn on_body(&mut self, chunk: &[u8], end_of_stream: bool, out: &mut Vec<u8>) {
        self.0.on_body(chunk, end_of_stream, out)
    }
}
