//! The eventstream decoder and the chat stream translation over fixtures embedded in the test
//! binary (`include_bytes!`), so that they run where there is no filesystem: under
//! wasm-bindgen-test on wasm32-unknown-unknown in Node's V8 (scripts/test-wasm-bindgen.sh), and
//! natively. The exhaustive fixture tests (every file of a directory) read the disk and run
//! natively and under WASI (scripts/test-wasm32.sh).

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

use bedrock_bridge::bedrock::events::ResponseStream;
use bedrock_bridge::chat::reply::ChatReply;
use bedrock_bridge::chat::stream::ChatSink;
use bedrock_bridge::config::ReasoningField;
use bedrock_bridge::eventstream::{decode_message, Decoder, HeaderValue, Limits};
use bedrock_bridge_testkit::recordings::Recorded;
use bedrock_bridge_testkit::replay::replay;
use bedrock_bridge_testkit::sse;
use serde_json::Value;

macro_rules! fixture {
    ($path:literal) => {
        (
            $path,
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/", $path)) as &[u8],
        )
    };
}

const EXPECTED: &str = include_str!("../../tests/fixtures/eventstream-vectors/expected.json");

const POSITIVE: [(&str, &[u8]); 8] = [
    fixture!("eventstream-vectors/positive/all_headers.bin"),
    fixture!("eventstream-vectors/positive/empty_message.bin"),
    fixture!("eventstream-vectors/positive/int32_header.bin"),
    fixture!("eventstream-vectors/positive/payload_no_headers.bin"),
    fixture!("eventstream-vectors/positive/payload_one_str_header.bin"),
    fixture!("eventstream-vectors/positive/smithy_valid_empty_payload.bin"),
    fixture!("eventstream-vectors/positive/smithy_valid_no_headers.bin"),
    fixture!("eventstream-vectors/positive/smithy_valid_with_all_headers_and_payload.bin"),
];

const NEGATIVE: [(&str, &[u8]); 12] = [
    fixture!("eventstream-vectors/negative/corrupted_header_len.bin"),
    fixture!("eventstream-vectors/negative/corrupted_headers.bin"),
    fixture!("eventstream-vectors/negative/corrupted_length.bin"),
    fixture!("eventstream-vectors/negative/corrupted_payload.bin"),
    fixture!("eventstream-vectors/negative/smithy_invalid_header_name_length.bin"),
    fixture!("eventstream-vectors/negative/smithy_invalid_header_name_length_too_long.bin"),
    fixture!("eventstream-vectors/negative/smithy_invalid_header_string_length_cut_off.bin"),
    fixture!("eventstream-vectors/negative/smithy_invalid_header_string_value_length.bin"),
    fixture!("eventstream-vectors/negative/smithy_invalid_header_value_type.bin"),
    fixture!("eventstream-vectors/negative/smithy_invalid_headers_length.bin"),
    fixture!("eventstream-vectors/negative/smithy_invalid_message_checksum.bin"),
    fixture!("eventstream-vectors/negative/smithy_invalid_prelude_checksum.bin"),
];

const STREAMS: [(&str, &[u8]); 4] = [
    fixture!("bedrock-recordings/converse-stream/kong__tool_use_three_chunks.bin"),
    fixture!("bedrock-recordings/converse-stream/dd-trace-py__converse_stream_tool.bin"),
    fixture!("bedrock-recordings/converse-stream/envoy-ai-gateway__claude_text_then_tool.bin"),
    fixture!("bedrock-recordings/converse-stream/langchain-aws__thinking_v0.bin"),
];

fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Header names, values as text, and the payload: what `expected.json` holds per vector.
#[test]
fn positive_vectors_decode_to_their_expected_headers_and_payload() {
    let expected: Value = serde_json::from_str(EXPECTED).unwrap();
    for (path, bytes) in POSITIVE {
        let want = &expected[name(path)];
        assert!(want.is_object(), "{path}: no entry in expected.json");
        let m = decode_message(bytes, &Limits::default()).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        let names: Vec<&str> = m.headers().map(|(n, _)| n).collect();
        let want_names: Vec<&str> = want["headers"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let (mut a, mut b) = (names.clone(), want_names);
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "{path}");
        for (n, v) in m.headers() {
            let w = &want["headers"][n]["value"];
            match v {
                HeaderValue::String(s) => assert_eq!(Some(s), w.as_str(), "{path}: {n}"),
                HeaderValue::Int(i) => assert_eq!(Some(i64::from(i)), w.as_i64(), "{path}: {n}"),
                HeaderValue::Bool(x) => assert_eq!(Some(x), w.as_bool(), "{path}: {n}"),
                _ => {}
            }
        }
        let payload = want["payload_utf8"].as_str().unwrap_or_default();
        assert_eq!(m.payload, payload.as_bytes(), "{path}");
        // The incremental decoder agrees, byte by byte.
        let mut d = Decoder::new(Limits::default());
        let mut payloads = Vec::new();
        for b in bytes.chunks(1) {
            d.feed(b, |m| payloads.push(m.payload.to_vec())).unwrap();
        }
        assert_eq!(payloads, vec![payload.as_bytes().to_vec()], "{path}");
    }
}

#[test]
fn negative_vectors_are_errors() {
    for (path, bytes) in NEGATIVE {
        assert!(decode_message(bytes, &Limits::default()).is_err(), "{path} decoded");
        let mut d = Decoder::new(Limits::default());
        assert!(d.feed(bytes, |_| {}).is_err(), "{path} decoded incrementally");
    }
}

/// Each recording's text, tool arguments and usage reach the chat SSE, at any chunking.
#[test]
fn recordings_translate_to_chat_sse() {
    let opts = ChatReply {
        id: "chatcmpl-test".into(),
        created: 1_700_000_000,
        model: "client-model".into(),
        reasoning_field: ReasoningField::Reasoning,
        include_usage: true,
        json_tool: None,
        max_thinking_bytes: 256 * 1024,
    };
    for (path, bytes) in STREAMS {
        let exp = Recorded::of(bytes);
        let run = |cuts: &[usize]| {
            let mut rs = ResponseStream::new(ChatSink::new(opts.clone()), Limits::default());
            replay(bytes, cuts, |c, end, out| rs.on_body(c, end, out))
        };
        let whole = run(&[]);
        let cuts: Vec<usize> = (1..bytes.len()).step_by(7).collect();
        assert_eq!(run(&cuts), whole, "{path}: output depends on chunking");
        let chunks: Vec<Value> = sse::events(&whole)
            .into_iter()
            .filter(|e| *e != "[DONE]")
            .map(|e| serde_json::from_str(e).unwrap())
            .collect();
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, exp.text, "{path}");
        let args: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
            .collect();
        assert_eq!(
            args,
            exp.tools.iter().map(|t| t.2.as_str()).collect::<String>(),
            "{path}"
        );
        let usage = chunks
            .iter()
            .rev()
            .find(|c| c["usage"].is_object())
            .map(|c| &c["usage"]);
        assert_eq!(
            usage.and_then(|u| u["completion_tokens"].as_u64()),
            exp.usage.as_ref().and_then(|u| u["outputTokens"].as_u64()),
            "{path}"
        );
        assert!(exp.usage.is_some() && !whole.is_empty(), "{path}");
    }
}
