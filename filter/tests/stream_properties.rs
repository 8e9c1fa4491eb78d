//! Properties of the response pipeline over arbitrary input: the SSE output does not depend on
//! how the body is split into chunks, it is always well-formed SSE, and it always ends in
//! exactly one `[DONE]`.

use bedrock_bridge::bedrock::events::ResponseStream;
use bedrock_bridge::chat::reply::ChatReply;
use bedrock_bridge::chat::stream::ChatSink;
use bedrock_bridge::config::ReasoningField;
use bedrock_bridge::eventstream::Limits;
use bedrock_bridge_testkit::frame::{event, string_frame as encode};
use bedrock_bridge_testkit::replay::{cut_points, replay};
use bedrock_bridge_testkit::sse::{self, content_of, ChunkHead};
use proptest::prelude::*;

fn opts() -> ChatReply {
    ChatReply {
        id: "chatcmpl-p".into(),
        created: 1,
        model: "m".into(),
        reasoning_field: ReasoningField::Both,
        include_usage: true,
        json_tool: Some("json_response".into()),
    }
}

fn run(bytes: &[u8], cuts: &[usize]) -> Vec<u8> {
    let limits = Limits {
        max_message_len: 8192,
        max_header_count: 16,
    };
    let mut rs = ResponseStream::new(ChatSink::new(opts()), limits);
    replay(bytes, &cut_points(bytes.len(), cuts.iter().copied()), |c, end, out| {
        rs.on_body(c, end, out)
    })
}

/// A frame: a real ConverseStream event shape with fuzzed values, or raw garbage.
fn frame() -> impl Strategy<Value = Vec<u8>> {
    let text = "[ -~\\n\"\\\\é]{0,24}";
    prop_oneof![
        text.prop_map(|t| encode(&[(":message-type", "event"), (":event-type", "contentBlockDelta")],
            serde_json::json!({"contentBlockIndex": 1, "delta": {"text": t}}).to_string().as_bytes())),
        text.prop_map(|t| encode(&[(":message-type", "event"), (":event-type", "contentBlockDelta")],
            serde_json::json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": t}}}).to_string().as_bytes())),
        (0u32..4, text).prop_map(|(i, t)| encode(&[(":message-type", "event"), (":event-type", "contentBlockStart")],
            serde_json::json!({"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": t, "name": if i == 3 { "json_response" } else { "f" }}}}).to_string().as_bytes())),
        (0u32..4, text).prop_map(|(i, t)| encode(&[(":message-type", "event"), (":event-type", "contentBlockDelta")],
            serde_json::json!({"contentBlockIndex": i, "delta": {"toolUse": {"input": t}}}).to_string().as_bytes())),
        Just(encode(&[(":message-type", "event"), (":event-type", "messageStart")], br#"{"role":"assistant"}"#)),
        "[a-z_]{1,20}".prop_map(|r| encode(&[(":message-type", "event"), (":event-type", "messageStop")],
            serde_json::json!({"stopReason": r}).to_string().as_bytes())),
        Just(encode(&[(":message-type", "event"), (":event-type", "metadata")], br#"{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}"#)),
        Just(encode(&[(":message-type", "exception"), (":exception-type", "throttlingException")], br#"{"message":"slow"}"#)),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|p| encode(&[(":message-type", "event"), (":event-type", "contentBlockDelta")], &p)),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn output_is_independent_of_chunking_and_well_formed(
        frames in prop::collection::vec(frame(), 0..24),
        cuts in prop::collection::vec(any::<usize>(), 0..16),
    ) {
        let bytes: Vec<u8> = frames.concat();
        let whole = run(&bytes, &[]);
        prop_assert_eq!(&run(&bytes, &cuts), &whole);
        sse::check(&whole, &ChunkHead { id: "chatcmpl-p", created: 1, model: "m" });
    }
}

#[test]
fn response_format_streams_only_the_json_answer() {
    use serde_json::json;
    // Text before the forced tool (possible when thinking keeps toolChoice at auto) is not
    // part of the JSON answer, as in non-streaming responses.
    let mut with_tool = event("messageStart", json!({"role": "assistant"}));
    with_tool.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "Here you go: "}}),
    ));
    with_tool.extend(event(
        "contentBlockStart",
        json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t1", "name": "json_response"}}}),
    ));
    with_tool.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"a\":"}}}),
    ));
    with_tool.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "1}"}}}),
    ));
    with_tool.extend(event("messageStop", json!({"stopReason": "tool_use"})));
    let out = run(&with_tool, &[]);
    assert_eq!(content_of(&out), r#"{"a":1}"#);
    assert!(std::str::from_utf8(&out).unwrap().contains(r#""finish_reason":"stop""#));

    // A model that answers in text instead still gets its text through, once.
    let mut text_only = event("messageStart", json!({"role": "assistant"}));
    text_only.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "{\"b\": "}}),
    ));
    text_only.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "2}"}}),
    ));
    text_only.extend(event("messageStop", json!({"stopReason": "end_turn"})));
    assert_eq!(content_of(&run(&text_only, &[])), r#"{"b": 2}"#);

    // ... and when the stream fails before messageStop, the held text goes out before the error.
    let mut cut = text_only.clone();
    cut.truncate(cut.len() - event("messageStop", json!({"stopReason": "end_turn"})).len());
    let out = run(&cut, &[]);
    assert_eq!(content_of(&out), r#"{"b": 2}"#);
    assert!(std::str::from_utf8(&out).unwrap().contains("messageStop"));
}
