//! OpenAI SSE output: split it into events and check that it is a well-formed finished stream.

use serde_json::Value;

/// The stream terminator.
pub const DONE: &str = "data: [DONE]\n\n";

/// The `data:` payloads of an SSE body, `[DONE]` included. Panics unless the body is UTF-8
/// `data: …\n\n` events.
pub fn events(out: &[u8]) -> Vec<&str> {
    let s = std::str::from_utf8(out).unwrap_or_else(|e| panic!("SSE is not UTF-8: {e}"));
    assert!(
        s.is_empty() || s.ends_with("\n\n"),
        "SSE does not end with a blank line: {s:?}"
    );
    s.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data line: {e:?}"))
        })
        .collect()
}

/// The JSON events of an SSE body (`[DONE]` left out).
pub fn json_events(out: &[u8]) -> Vec<Value> {
    events(out)
        .into_iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("event is not JSON ({e}): {d:?}")))
        .collect()
}

/// The `content` of every chunk, concatenated.
pub fn content_of(out: &[u8]) -> String {
    json_events(out)
        .iter()
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_string))
        .collect()
}

/// What every chunk of one stream says about itself.
#[derive(Debug, Clone, Copy)]
pub struct ChunkHead<'a> {
    pub id: &'a str,
    pub created: u64,
    pub model: &'a str,
}

/// Check that `out` is the SSE of a finished chat stream: UTF-8 `data: …\n\n` events with no
/// newline inside, each a JSON object (a `chat.completion.chunk` of this stream, or one
/// `{"error":…}` followed by `[DONE]` only), exactly one `[DONE]`, last, and the role on the
/// first chunk with a choice only.
pub fn check(out: &[u8], head: &ChunkHead<'_>) {
    let text = std::str::from_utf8(out).unwrap_or_else(|e| panic!("SSE is not UTF-8: {e}"));
    assert!(text.ends_with(DONE), "SSE does not end with [DONE]: {text:?}");
    let events = events(out);
    let n = events.len();
    let mut role_seen = false;
    for (i, data) in events.iter().enumerate() {
        assert!(
            !data.contains('\n') && !data.contains('\r'),
            "newline inside event {i}: {data:?}"
        );
        if *data == "[DONE]" {
            assert_eq!(i, n - 1, "[DONE] is not the last event: {text:?}");
            continue;
        }
        let v: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("event {i} is not JSON ({e}): {data:?}"));
        let obj = v
            .as_object()
            .unwrap_or_else(|| panic!("event {i} is not an object: {data:?}"));
        if let Some(err) = obj.get("error") {
            assert!(err["message"].is_string(), "error event without message: {data:?}");
            assert!(err["type"].is_string(), "error event without type: {data:?}");
            assert_eq!(i + 2, n, "an error event must be followed by [DONE] only: {text:?}");
            continue;
        }
        assert_eq!(obj["object"], "chat.completion.chunk", "{data:?}");
        assert_eq!(obj["id"], head.id, "{data:?}");
        assert_eq!(obj["model"], head.model, "{data:?}");
        assert_eq!(obj["created"], head.created, "{data:?}");
        let choices = obj["choices"]
            .as_array()
            .unwrap_or_else(|| panic!("chunk without choices: {data:?}"));
        if let Some(choice) = choices.first() {
            // The first chunk with a choice opens the assistant message; no other one does.
            let has_role = choice["delta"].get("role").is_some();
            assert_eq!(has_role, !role_seen, "role on the wrong chunk: {text:?}");
            role_seen = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: ChunkHead<'static> = ChunkHead {
        id: "c",
        created: 1,
        model: "m",
    };

    #[test]
    fn accepts_a_finished_stream() {
        let ok = concat!(
            r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"delta":{"role":"assistant","content":"a"}}]}"#,
            "\n\n",
            r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"delta":{"content":"b"}}]}"#,
            "\n\ndata: [DONE]\n\n"
        );
        check(ok.as_bytes(), &HEAD);
        assert_eq!(content_of(ok.as_bytes()), "ab");
        assert_eq!(events(ok.as_bytes()).len(), 3);
    }

    #[test]
    #[should_panic(expected = "[DONE]")]
    fn refuses_a_stream_without_done() {
        check(b"data: {\"error\":{\"message\":\"m\",\"type\":\"t\"}}\n\n", &HEAD);
    }

    #[test]
    #[should_panic(expected = "followed by [DONE] only")]
    fn refuses_output_after_an_error() {
        let s = "data: {\"error\":{\"message\":\"m\",\"type\":\"t\"}}\n\ndata: {\"error\":{\"message\":\"m\",\"type\":\"t\"}}\n\ndata: [DONE]\n\n";
        check(s.as_bytes(), &HEAD);
    }
}
