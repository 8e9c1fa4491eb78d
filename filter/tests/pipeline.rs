//! The shared request pipeline: each case goes through the three chat-style front doors (chat
//! completions, the Responses API, Anthropic Messages) and must get the same Bedrock rule.

use bedrock_bridge::anthropic::MESSAGES;
use bedrock_bridge::chat::CHAT;
use bedrock_bridge::config::Config;
use bedrock_bridge::error::ApiError;
use bedrock_bridge::front::{FrontDoor, Outbound, RequestContext};
use bedrock_bridge::responses::RESPONSES;
use serde_json::{json, Value};

fn cfg() -> Config {
    let c = json!({"region": "us-east-1", "credentials": {"access_key_id": "AKID", "secret_access_key": "S"},
                   "models": {"claude": "us.anthropic.claude-sonnet-4-20250514-v1:0",
                              "claude45": "global.anthropic.claude-sonnet-4-5-20250929-v1:0"}});
    Config::parse(c.to_string().as_bytes(), &|_| None).unwrap()
}

/// What a door makes of the body `req` under the configuration `c`.
fn translate(door: &dyn FrontDoor, c: &Config, req: &[u8]) -> Result<Outbound, ApiError> {
    let no_headers = |_: &str| None;
    door.translate(
        req,
        &RequestContext {
            config: c,
            id: "abc",
            created: 1,
            path: "/",
            header: &no_headers,
        },
    )
}

/// The Converse body and log lines a door makes of `req`.
fn send(door: &dyn FrontDoor, req: &Value) -> Result<(Value, Vec<String>), ApiError> {
    let o = translate(door, &cfg(), req.to_string().as_bytes())?;
    Ok((serde_json::from_slice(&o.body).unwrap(), o.notes))
}

fn ok(door: &dyn FrontDoor, req: Value) -> (Value, Vec<String>) {
    send(door, &req).unwrap_or_else(|e| panic!("{} refused {req}: {e:?}", door.name()))
}

fn chat(extra: Value, messages: Value) -> Value {
    let mut r = json!({"model": "claude", "messages": messages});
    merge(&mut r, extra);
    r
}

fn responses(extra: Value, input: Value) -> Value {
    let mut r = json!({"model": "claude", "input": input});
    merge(&mut r, extra);
    r
}

fn messages(extra: Value, messages: Value) -> Value {
    let mut r = json!({"model": "claude", "max_tokens": 5000, "messages": messages});
    merge(&mut r, extra);
    r
}

fn merge(r: &mut Value, extra: Value) {
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
}

/// One tool call `c1` to `get` with `args` (each door's shape) and its result `42`.
fn tool_loop(args: &str) -> [Value; 3] {
    [
        json!([{"role": "user", "content": "q"},
               {"role": "assistant", "content": null,
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get", "arguments": args}}]},
               {"role": "tool", "tool_call_id": "c1", "content": "42"}]),
        json!([{"role": "user", "content": "q"},
               {"type": "function_call", "call_id": "c1", "name": "get", "arguments": args},
               {"type": "function_call_output", "call_id": "c1", "output": "42"}]),
        json!([{"role": "user", "content": "q"},
               {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "get", "input": {}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "42"}]}]),
    ]
}

#[test]
fn tool_history_without_declared_tools_becomes_text() {
    let [c, r, m] = tool_loop("{}");
    let chat_tools = json!([{"type": "function", "function": {"name": "get"}}]);
    let resp_tools = json!([{"type": "function", "name": "get"}]);
    let msg_tools = json!([{"name": "get", "input_schema": {"type": "object"}}]);
    let none = [
        (
            &CHAT as &dyn FrontDoor,
            chat(json!({"tools": chat_tools, "tool_choice": "none"}), c.clone()),
        ),
        (
            &RESPONSES,
            responses(json!({"tools": resp_tools, "tool_choice": "none"}), r.clone()),
        ),
        (
            &MESSAGES,
            messages(json!({"tools": msg_tools, "tool_choice": {"type": "none"}}), m.clone()),
        ),
    ];
    let no_tools = [
        (&CHAT as &dyn FrontDoor, chat(json!({}), c)),
        (&RESPONSES, responses(json!({}), r)),
        (&MESSAGES, messages(json!({}), m)),
    ];
    for (door, req) in none.into_iter().chain(no_tools) {
        let (b, _) = ok(door, req);
        assert!(b.get("toolConfig").is_none(), "{}: {b}", door.name());
        assert_eq!(
            b["messages"][1]["content"],
            json!([{"text": "[tool call c1: get {}]"}]),
            "{}",
            door.name()
        );
        assert_eq!(
            b["messages"][2]["content"],
            json!([{"text": "[tool result c1 (get)]: 42"}]),
            "{}",
            door.name()
        );
    }
}

#[test]
fn request_metadata_is_cleaned_never_refused() {
    let hi = || json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (
            &CHAT as &dyn FrontDoor,
            chat(json!({"metadata": {"user_id": "{\"d\":\"é\"}"}}), hi()),
            "user_id",
        ),
        (
            &RESPONSES,
            responses(json!({"metadata": {"user_id": "{\"d\":\"é\"}"}}), hi()),
            "user_id",
        ),
        (
            &MESSAGES,
            messages(json!({"metadata": {"user_id": "{\"d\":\"é\"}"}}), hi()),
            "user_id",
        ),
    ];
    for (door, req, key) in cases {
        let (b, notes) = ok(door, req);
        assert_eq!(b["requestMetadata"], json!({key: "__d_:____"}), "{}", door.name());
        assert!(
            notes.iter().any(|n| n.contains("cleaned")),
            "{}: {notes:?}",
            door.name()
        );
    }
}

#[test]
fn invalid_historical_tool_arguments_are_repaired() {
    // A stream cut at max tokens leaves truncated arguments in the history: they become `{}`.
    // (Anthropic's `tool_use.input` is an object by its API; a missing one is `{}`.)
    let [c, r, _] = tool_loop("{\"city\": \"Par");
    let m = json!([{"role": "user", "content": "q"},
                   {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "get"}]},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "42"}]}]);
    let cases = [
        (
            &CHAT as &dyn FrontDoor,
            chat(json!({"tools": [{"type": "function", "function": {"name": "get"}}]}), c),
        ),
        (
            &RESPONSES,
            responses(json!({"tools": [{"type": "function", "name": "get"}]}), r),
        ),
        (
            &MESSAGES,
            messages(
                json!({"tools": [{"name": "get", "input_schema": {"type": "object"}}]}),
                m,
            ),
        ),
    ];
    for (door, req) in cases {
        let (b, _) = ok(door, req);
        assert_eq!(
            b["messages"][1]["content"][0]["toolUse"]["input"],
            json!({}),
            "{}: {b}",
            door.name()
        );
    }
    // Valid JSON that is not an object stays a 400 naming the arguments.
    let [c, r, _] = tool_loop("[1]");
    assert_eq!(
        send(&CHAT, &chat(json!({}), c)).unwrap_err().param.as_deref(),
        Some("messages[1].tool_calls[0].function.arguments")
    );
    assert_eq!(
        send(&RESPONSES, &responses(json!({}), r)).unwrap_err().param.as_deref(),
        Some("input[1].arguments")
    );
}

#[test]
fn temperature_above_one_is_a_clear_400() {
    let hi = || json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (&CHAT as &dyn FrontDoor, chat(json!({"temperature": 1.5}), hi())),
        (&RESPONSES, responses(json!({"temperature": 1.5}), hi())),
        (&MESSAGES, messages(json!({"temperature": 1.5}), hi())),
    ];
    for (door, req) in cases {
        let e = send(door, &req).unwrap_err();
        assert_eq!(
            (e.status, e.param.as_deref()),
            (400, Some("temperature")),
            "{}",
            door.name()
        );
        assert!(e.message.contains("0 to 1"), "{}: {}", door.name(), e.message);
    }
    for (door, req) in [
        (&CHAT as &dyn FrontDoor, chat(json!({"temperature": 1.0}), hi())),
        (&RESPONSES, responses(json!({"temperature": 1.0}), hi())),
        (&MESSAGES, messages(json!({"temperature": 1.0}), hi())),
    ] {
        assert_eq!(
            ok(door, req).0["inferenceConfig"]["temperature"],
            1.0,
            "{}",
            door.name()
        );
    }
}

#[test]
fn structured_output_is_native_where_the_model_has_it() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
                        "additionalProperties": false});
    let hi = || json!([{"role": "user", "content": "hi"}]);
    for (model, native) in [("claude45", true), ("claude", false)] {
        let c = chat(
            json!({"model": model, "response_format": {"type": "json_schema",
                   "json_schema": {"name": "A", "schema": schema, "strict": true}}}),
            hi(),
        );
        let r = responses(
            json!({"model": model, "text": {"format": {"type": "json_schema", "name": "A", "schema": schema, "strict": true}}}),
            hi(),
        );
        for (door, req) in [(&CHAT as &dyn FrontDoor, c), (&RESPONSES, r)] {
            let (b, _) = ok(door, req);
            if native {
                assert_eq!(
                    b["outputConfig"]["textFormat"]["type"],
                    "json_schema",
                    "{}: {b}",
                    door.name()
                );
                assert!(b.get("toolConfig").is_none(), "{}: {b}", door.name());
            } else {
                assert!(b.get("outputConfig").is_none(), "{}: {b}", door.name());
                assert_eq!(
                    b["toolConfig"]["toolChoice"],
                    json!({"tool": {"name": "A"}}),
                    "{}",
                    door.name()
                );
            }
        }
    }
}

#[test]
fn anthropic_structured_output_is_the_same_native_output_as_a_strict_openai_schema() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
                        "additionalProperties": false});
    let hi = || json!([{"role": "user", "content": "hi"}]);
    let format = json!({"type": "json_schema", "schema": schema});
    let (m, _) = ok(
        &MESSAGES,
        messages(
            json!({"model": "claude45", "output_config": {"format": format, "effort": "high"}}),
            hi(),
        ),
    );
    let (c, _) = ok(
        &CHAT,
        chat(
            json!({"model": "claude45", "response_format": {"type": "json_schema",
                   "json_schema": {"name": "json_response", "schema": schema, "strict": true}}}),
            hi(),
        ),
    );
    let text_format = &m["outputConfig"]["textFormat"];
    assert_eq!(text_format["type"], "json_schema", "{m}");
    let sent: Value = serde_json::from_str(text_format["structure"]["jsonSchema"]["schema"].as_str().unwrap()).unwrap();
    assert_eq!(sent, schema);
    assert_eq!(
        text_format["structure"]["jsonSchema"]["schema"],
        c["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"]
    );
    assert!(m.get("toolConfig").is_none(), "{m}");
    // A model without native structured output: Messages cannot answer in a text block.
    let e = send(&MESSAGES, &messages(json!({"output_config": {"format": format}}), hi())).unwrap_err();
    assert_eq!((e.status, e.param.as_deref()), (400, Some("output_config.format")));
    assert!(e.message.contains("no structured output"), "{}", e.message);
}

#[test]
fn strict_tools_only_where_the_model_takes_them() {
    let hi = || json!([{"role": "user", "content": "hi"}]);
    for (model, strict) in [("claude45", json!(true)), ("claude", Value::Null)] {
        let cases = [
            (
                &CHAT as &dyn FrontDoor,
                chat(
                    json!({"model": model, "tools": [{"type": "function",
                "function": {"name": "f", "parameters": {"type": "object"}, "strict": true}}]}),
                    hi(),
                ),
            ),
            (
                &RESPONSES,
                responses(
                    json!({"model": model, "tools": [{"type": "function", "name": "f",
                "parameters": {"type": "object"}, "strict": true}]}),
                    hi(),
                ),
            ),
            (
                &MESSAGES,
                messages(
                    json!({"model": model, "tools": [{"name": "f",
                "input_schema": {"type": "object"}, "strict": true}]}),
                    hi(),
                ),
            ),
        ];
        for (door, req) in cases {
            let (b, _) = ok(door, req);
            assert_eq!(
                b["toolConfig"]["tools"][0]["toolSpec"]["strict"],
                strict,
                "{} {model}",
                door.name()
            );
        }
    }
}

#[test]
fn sampling_is_checked_after_the_thinking_floor() {
    // Thinking asked, but the final tool-calling turn has no signed reasoning block: the floor
    // turns thinking off for this request, so `temperature` 0.5 is valid and kept.
    let [c, r, m] = tool_loop("{}");
    let cases = [
        (
            &CHAT as &dyn FrontDoor,
            chat(
                json!({"reasoning_effort": "low", "temperature": 0.5,
            "tools": [{"type": "function", "function": {"name": "get"}}]}),
                c,
            ),
        ),
        (
            &RESPONSES,
            responses(
                json!({"reasoning": {"effort": "low"}, "temperature": 0.5,
            "tools": [{"type": "function", "name": "get"}]}),
                r,
            ),
        ),
        (
            &MESSAGES,
            messages(
                json!({"thinking": {"type": "enabled", "budget_tokens": 1024}, "temperature": 0.5,
            "tools": [{"name": "get", "input_schema": {"type": "object"}}]}),
                m,
            ),
        ),
    ];
    for (door, req) in cases {
        let (b, notes) = ok(door, req);
        assert!(b.get("additionalModelRequestFields").is_none(), "{}: {b}", door.name());
        assert_eq!(b["inferenceConfig"]["temperature"], 0.5, "{}", door.name());
        assert!(
            notes.iter().any(|n| n.starts_with("thinking off for this request")),
            "{}: {notes:?}",
            door.name()
        );
    }
    // A forced tool does the same in the OpenAI doors (Anthropic's API refuses it: a 400).
    let hi = || json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (
            &CHAT as &dyn FrontDoor,
            chat(
                json!({"reasoning_effort": "low", "temperature": 0.5, "tool_choice": "required",
            "tools": [{"type": "function", "function": {"name": "get"}}]}),
                hi(),
            ),
        ),
        (
            &RESPONSES,
            responses(
                json!({"reasoning": {"effort": "low"}, "temperature": 0.5, "tool_choice": "required",
            "tools": [{"type": "function", "name": "get"}]}),
                hi(),
            ),
        ),
    ];
    for (door, req) in cases {
        let (b, _) = ok(door, req);
        assert_eq!(
            (
                b["inferenceConfig"]["temperature"].clone(),
                b["toolConfig"]["toolChoice"].clone()
            ),
            (json!(0.5), json!({"any": {}})),
            "{}",
            door.name()
        );
    }
    let e = send(
        &MESSAGES,
        &messages(
            json!({"thinking": {"type": "enabled", "budget_tokens": 1024},
        "tool_choice": {"type": "any"}, "tools": [{"name": "get", "input_schema": {"type": "object"}}]}),
            hi(),
        ),
    )
    .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tool_choice"));
}

/// The Converse body a door makes of the body text `req`.
fn send_text(door: &dyn FrontDoor, req: &str) -> Vec<u8> {
    match translate(door, &cfg(), req.as_bytes()) {
        Ok(o) => o.body,
        Err(e) => panic!("{} refused {req}: {e:?}", door.name()),
    }
}

/// A schema as a client may write it: spaced, keys unsorted, a number serde_json would rewrite.
const SCHEMA: &str = r#"{ "type" : "object",
  "properties": {"b": {"type": "string"}, "a": {"type": "number", "minimum": 1.50}}, "required": ["b"] }"#;

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn tool_schemas_reach_bedrock_as_the_client_wrote_them() {
    let msg = r#"[{"role": "user", "content": "hi"}]"#;
    let bodies: [(&dyn FrontDoor, String); 3] = [
        (
            &CHAT,
            format!(
                r#"{{"model": "claude", "messages": {msg}, "tools": [{{"type": "function", "function": {{"name": "f", "parameters": {SCHEMA}}}}}]}}"#
            ),
        ),
        (
            &RESPONSES,
            format!(
                r#"{{"model": "claude", "input": "hi", "tools": [{{"type": "function", "name": "f", "parameters": {SCHEMA}}}]}}"#
            ),
        ),
        (
            &MESSAGES,
            format!(
                r#"{{"model": "claude", "max_tokens": 100, "messages": {msg}, "tools": [{{"name": "f", "input_schema": {SCHEMA}}}]}}"#
            ),
        ),
    ];
    let read: Value = serde_json::from_str(SCHEMA).unwrap();
    for (door, body) in bodies {
        let out = send_text(door, &body);
        assert!(
            contains(&out, &format!(r#""inputSchema":{{"json":{SCHEMA}}}"#)),
            "{}: {}",
            door.name(),
            String::from_utf8_lossy(&out)
        );
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"],
            read,
            "{}",
            door.name()
        );
    }
}

#[test]
fn count_tokens_sends_the_client_s_schema_too() {
    let body = format!(
        r#"{{"model": "claude", "messages": [{{"role": "user", "content": "hi"}}], "tools": [{{"name": "f", "input_schema": {SCHEMA}}}]}}"#
    );
    let (_, out, _) = bedrock_bridge::anthropic::count_tokens::translate(body.as_bytes(), &cfg(), None).unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let schema = &v["input"]["converse"]["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"];
    assert_eq!(*schema, serde_json::from_str::<Value>(SCHEMA).unwrap());
}

#[test]
fn a_client_s_own_kept_marker_is_an_ordinary_object_unless_it_is_one_json_object() {
    // Nesting deeper than fastjson's reader takes: serde_json reads this body, keeping nothing,
    // so the marker objects below are the client's own.
    let deep = format!("{}{}", "[".repeat(110), "]".repeat(110));
    let tools = format!(
        r#"[{{"name": "ok", "input_schema": {{"\u0000fastjson:kept": "{{\"type\":\"object\"}}"}}}},
            {{"name": "bad", "input_schema": {{"\u0000fastjson:kept": "{{\"type\":"}}}},
            {{"name": "deep", "input_schema": {{"type": "object", "enum": [{deep}]}}}}]"#
    );
    let body = format!(
        r#"{{"model": "claude", "max_tokens": 100, "messages": [{{"role": "user", "content": "hi"}}], "tools": {tools}}}"#
    );
    let v: Value = serde_json::from_slice(&send_text(&MESSAGES, &body)).unwrap();
    let schema = |i: usize| v["toolConfig"]["tools"][i]["toolSpec"]["inputSchema"]["json"].clone();
    assert_eq!(schema(0), json!({"type": "object"}));
    assert_eq!(schema(1), json!({"\u{0}fastjson:kept": "{\"type\":"}));
    assert_eq!(schema(2)["enum"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_chat_request_passed_on_to_an_openai_model_keeps_its_tool_schemas() {
    let c = json!({"region": "us-east-1", "credentials": {"access_key_id": "AKID", "secret_access_key": "S"},
                   "models": {"oss": {"id": "openai.gpt-oss-20b-1:0", "api": "openai"}}});
    let c = Config::parse(c.to_string().as_bytes(), &|_| None).unwrap();
    let body = format!(
        r#"{{"model": "oss", "messages": [{{"role": "user", "content": "hi"}}], "tools": [{{"type": "function", "function": {{"name": "f", "parameters": {SCHEMA}}}}}]}}"#
    );
    let out = translate(&CHAT, &c, body.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    let v: Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(v["model"], "openai.gpt-oss-20b-1:0");
    assert_eq!(
        v["tools"][0]["function"]["parameters"],
        serde_json::from_str::<Value>(SCHEMA).unwrap()
    );
}
