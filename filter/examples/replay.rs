//! Replay a recorded Bedrock eventstream file through the response pipeline and print the SSE:
//! `cargo run -p bedrock-bridge --example replay -- FILE`
use bedrock_bridge::bedrock::events::ResponseStream;
use bedrock_bridge::chat::reply::ChatReply;
use bedrock_bridge::chat::stream::ChatSink;
use bedrock_bridge::config::ReasoningField;
use bedrock_bridge::eventstream::Limits;
use std::io::Write;

fn main() {
    let path = std::env::args().nth(1).expect("usage: replay FILE");
    let bytes = std::fs::read(&path).expect("read the file");
    let reply = ChatReply {
        id: "chatcmpl-replay".into(),
        created: 0,
        model: "replay".into(),
        reasoning_field: ReasoningField::Reasoning,
        include_usage: true,
        json_tool: None,
    };
    let mut rs = ResponseStream::new(ChatSink::new(reply), Limits::default());
    let mut out = Vec::new();
    rs.on_body(&bytes, true, &mut out);
    std::io::stdout().write_all(&out).expect("write");
}
