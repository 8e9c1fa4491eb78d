//! `ResponsesSink`: ConverseStream events → the Responses API's server-sent events.
//!
//! Each Bedrock content block becomes one output item (reasoning, message or function call),
//! in the order the blocks start. Every event carries a `sequence_number` counting from 0. The
//! `.done` events and the final `response.completed` carry full texts, so the sink keeps each
//! item's text until the response ends: that memory is bounded by `max_bytes` (the gateway's
//! `max_response_bytes` limit); past it the response fails with a 502.

use super::response::{self, Meta, ReasoningBlock, State, Status};
use crate::bedrock::events::{Event, EventSink};
use crate::error::ApiError;
use crate::openai::BedrockUsage;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug)]
enum Kind {
    Message {
        text: String,
    },
    Reasoning(ReasoningBlock),
    Call {
        call_id: String,
        name: String,
        args: String,
    },
}

#[derive(Debug)]
struct Item {
    /// The Bedrock content block it came from.
    block: u32,
    id: String,
    kind: Kind,
    done: bool,
}

/// Writes one Responses API stream.
#[derive(Debug)]
pub struct ResponsesSink {
    meta: Meta,
    seq: u64,
    items: Vec<Item>,
    started: bool,
    stop_reason: Option<String>,
    terminated: bool,
    /// Text held for `.done` events and the final response, and its limit.
    held: usize,
    max_bytes: usize,
}

/// A delta event (the hot path), written without building a JSON tree.
#[derive(Serialize)]
struct Delta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    sequence_number: u64,
    item_id: &'a str,
    output_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary_index: Option<usize>,
    delta: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    logprobs: Option<[u8; 0]>,
}

impl ResponsesSink {
    pub fn new(meta: Meta, max_bytes: usize) -> Self {
        ResponsesSink {
            meta,
            seq: 0,
            items: Vec::new(),
            started: false,
            stop_reason: None,
            terminated: false,
            held: 0,
            max_bytes,
        }
    }

    fn write(&mut self, kind: &str, mut v: Value, out: &mut Vec<u8>) {
        if let Value::Object(m) = &mut v {
            m.insert("type".into(), Value::from(kind));
            m.insert("sequence_number".into(), Value::from(self.seq));
        }
        self.seq += 1;
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        let _ = serde_json::to_writer(&mut *out, &v);
        out.extend_from_slice(b"\n\n");
    }

    /// Writes a delta event and counts it in `seq` (the sink's `seq`, passed alone so that the
    /// item the delta borrows its id from can stay borrowed).
    fn write_delta(seq: &mut u64, d: Delta<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(d.kind.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        let _ = serde_json::to_writer(&mut *out, &d);
        out.extend_from_slice(b"\n\n");
        *seq += 1;
    }

    fn response(&self, st: State<'_>) -> Value {
        response::obj([("response", response::response_object(&self.meta, st))])
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        for kind in ["response.created", "response.in_progress"] {
            let v = self.response(State {
                status: Status::InProgress,
                output: Vec::new(),
                usage: None,
                incomplete_reason: None,
                error: None,
            });
            self.write(kind, v, out);
        }
    }

    /// Count `n` more bytes of held text; false (and the stream failed) past the limit.
    fn hold(&mut self, n: usize, out: &mut Vec<u8>) -> bool {
        self.held = self.held.saturating_add(n);
        if self.held > self.max_bytes {
            let e = ApiError::bad_upstream(format_args!(
                "the response is larger than this gateway's limit of {} bytes",
                self.max_bytes
            ));
            self.fail(&e, out);
            return false;
        }
        true
    }

    /// The open item of `block`, opening one of the kind `new` makes when there is none (or the
    /// block changed kind). Returns its output index.
    fn item_for(
        &mut self,
        block: u32,
        is_kind: fn(&Kind) -> bool,
        new: impl FnOnce() -> Kind,
        out: &mut Vec<u8>,
    ) -> usize {
        if let Some(i) = self.items.iter().rposition(|it| it.block == block && !it.done) {
            if self.items.get(i).is_some_and(|it| is_kind(&it.kind)) {
                return i;
            }
            self.close(i, out);
        }
        let n = self.items.len();
        let kind = new();
        let id = match &kind {
            Kind::Message { .. } => self.meta.item_id("msg", n),
            Kind::Reasoning(_) => self.meta.item_id("rs", n),
            Kind::Call { .. } => self.meta.item_id("fc", n),
        };
        let item = match &kind {
            Kind::Message { .. } => response::message_item(&id, Status::InProgress, None),
            Kind::Reasoning(_) => {
                response::reasoning_item(&id, Status::InProgress, None, self.meta.reasoning_as_summary)
            }
            Kind::Call { call_id, name, .. } => {
                response::function_call_item(&id, Status::InProgress, call_id, name, "")
            }
        };
        let added = response::obj([("output_index", Value::from(n)), ("item", item)]);
        self.write("response.output_item.added", added, out);
        let part = match &kind {
            Kind::Message { .. } => Some((
                "response.content_part.added",
                response::output_text_part(""),
                "content_index",
            )),
            // Redacted reasoning has no text: no part.
            Kind::Reasoning(b) if b.redacted.is_some() => None,
            Kind::Reasoning(_) if self.meta.reasoning_as_summary => Some((
                "response.reasoning_summary_part.added",
                response::summary_part(""),
                "summary_index",
            )),
            Kind::Reasoning(_) => Some((
                "response.content_part.added",
                response::reasoning_text_part(""),
                "content_index",
            )),
            Kind::Call { .. } => None,
        };
        if let Some((ev, part, index_name)) = part {
            let v = response::obj([
                ("item_id", Value::from(id.as_str())),
                ("output_index", Value::from(n)),
                (index_name, Value::from(0u64)),
                ("part", part),
            ]);
            self.write(ev, v, out);
        }
        self.items.push(Item {
            block,
            id,
            kind,
            done: false,
        });
        n
    }

    /// Close output item `i`: its `.done` events and `response.output_item.done`.
    fn close(&mut self, i: usize, out: &mut Vec<u8>) {
        let Some(it) = self.items.get_mut(i) else { return };
        if it.done {
            return;
        }
        it.done = true;
        let id = it.id.clone();
        let as_summary = self.meta.reasoning_as_summary;
        let with = |pairs: Vec<(&str, Value)>| {
            let mut m = serde_json::Map::new();
            m.insert("item_id".into(), Value::from(id.as_str()));
            m.insert("output_index".into(), Value::from(i));
            for (k, v) in pairs {
                m.insert(k.into(), v);
            }
            Value::Object(m)
        };
        let mut events: Vec<(&'static str, Value)> = Vec::with_capacity(4);
        let (text, item) = match &it.kind {
            Kind::Message { text } => (
                Some(TextDone {
                    done: "response.output_text.done",
                    part_done: "response.content_part.done",
                    index: "content_index",
                    text,
                    part: response::output_text_part(text),
                    logprobs: true,
                }),
                response::message_item(&id, Status::Completed, Some(text)),
            ),
            Kind::Reasoning(b) => (
                b.redacted.is_none().then(|| TextDone::reasoning(&b.text, as_summary)),
                response::reasoning_item(&id, Status::Completed, Some(b), as_summary),
            ),
            Kind::Call { call_id, name, args } => {
                let args = if args.trim().is_empty() { "{}" } else { args.as_str() };
                events.push((
                    "response.function_call_arguments.done",
                    with(vec![
                        ("name", Value::from(name.as_str())),
                        ("arguments", Value::from(args)),
                    ]),
                ));
                (
                    None,
                    response::function_call_item(&id, Status::Completed, call_id, name, args),
                )
            }
        };
        if let Some(t) = text {
            let mut fields = vec![(t.index, Value::from(0u64)), ("text", Value::from(t.text))];
            if t.logprobs {
                fields.push(("logprobs", Value::Array(Vec::new())));
            }
            events.push((t.done, with(fields)));
            events.push((t.part_done, with(vec![(t.index, Value::from(0u64)), ("part", t.part)])));
        }
        events.push((
            "response.output_item.done",
            response::obj([("output_index", Value::from(i)), ("item", item)]),
        ));
        for (k, v) in events {
            self.write(k, v, out);
        }
    }

    fn close_all(&mut self, out: &mut Vec<u8>) {
        for i in 0..self.items.len() {
            self.close(i, out);
        }
    }

    /// The output items as they stand (final texts).
    fn output(&self) -> Vec<Value> {
        self.items
            .iter()
            .map(|it| {
                let st = if it.done { Status::Completed } else { Status::InProgress };
                match &it.kind {
                    Kind::Message { text } => response::message_item(&it.id, st, Some(text)),
                    Kind::Reasoning(b) => response::reasoning_item(&it.id, st, Some(b), self.meta.reasoning_as_summary),
                    Kind::Call { call_id, name, args } => response::function_call_item(&it.id, st, call_id, name, args),
                }
            })
            .collect()
    }

    /// `response.completed` / `response.incomplete`.
    fn complete(&mut self, usage: Option<&BedrockUsage>, out: &mut Vec<u8>) {
        self.close_all(out);
        let (status, reason) = response::outcome(self.stop_reason.as_deref().unwrap_or("end_turn"));
        let kind = if status == Status::Completed {
            "response.completed"
        } else {
            "response.incomplete"
        };
        let v = self.response(State {
            status,
            output: self.output(),
            usage,
            incomplete_reason: reason,
            error: None,
        });
        self.write(kind, v, out);
        self.terminated = true;
    }

    fn text_delta(&mut self, block: u32, text: &str, out: &mut Vec<u8>) {
        let i = self.item_for(
            block,
            |k| matches!(k, Kind::Message { .. }),
            || Kind::Message { text: String::new() },
            out,
        );
        if !self.hold(text.len(), out) {
            return;
        }
        let Some(it) = self.items.get_mut(i) else { return };
        if let Kind::Message { text: t } = &mut it.kind {
            t.push_str(text);
        }
        let seq = self.seq;
        Self::write_delta(
            &mut self.seq,
            Delta {
                kind: "response.output_text.delta",
                sequence_number: seq,
                item_id: &it.id,
                output_index: i,
                content_index: Some(0),
                summary_index: None,
                delta: text,
                logprobs: Some([]),
            },
            out,
        );
    }
}

/// An item's text as its two `.done` events give it: the text's event and its part's.
struct TextDone<'a> {
    done: &'static str,
    part_done: &'static str,
    /// `content_index` or `summary_index` (always 0: one part per item).
    index: &'static str,
    text: &'a str,
    part: Value,
    /// `response.output_text.done` carries `logprobs: []`.
    logprobs: bool,
}

impl<'a> TextDone<'a> {
    /// Reasoning text, as `reasoning_text` content or as a summary.
    fn reasoning(text: &'a str, as_summary: bool) -> Self {
        if as_summary {
            TextDone {
                done: "response.reasoning_summary_text.done",
                part_done: "response.reasoning_summary_part.done",
                index: "summary_index",
                text,
                part: response::summary_part(text),
                logprobs: false,
            }
        } else {
            TextDone {
                done: "response.reasoning_text.done",
                part_done: "response.content_part.done",
                index: "content_index",
                text,
                part: response::reasoning_text_part(text),
                logprobs: false,
            }
        }
    }
}

fn new_reasoning() -> Kind {
    Kind::Reasoning(ReasoningBlock::default())
}

fn is_reasoning(k: &Kind) -> bool {
    matches!(k, Kind::Reasoning(_))
}

impl ResponsesSink {
    fn reasoning_delta(&mut self, block: u32, text: &str, out: &mut Vec<u8>) {
        let i = self.item_for(block, is_reasoning, new_reasoning, out);
        if !self.hold(text.len(), out) {
            return;
        }
        let as_summary = self.meta.reasoning_as_summary;
        let Some(it) = self.items.get_mut(i) else { return };
        if let Kind::Reasoning(b) = &mut it.kind {
            b.text.push_str(text);
        }
        let seq = self.seq;
        let (kind, content_index, summary_index) = if as_summary {
            ("response.reasoning_summary_text.delta", None, Some(0))
        } else {
            ("response.reasoning_text.delta", Some(0), None)
        };
        Self::write_delta(
            &mut self.seq,
            Delta {
                kind,
                sequence_number: seq,
                item_id: &it.id,
                output_index: i,
                content_index,
                summary_index,
                delta: text,
                logprobs: None,
            },
            out,
        );
    }

    fn reasoning_signature(&mut self, block: u32, signature: &str, out: &mut Vec<u8>) {
        let i = self.item_for(block, is_reasoning, new_reasoning, out);
        if !self.hold(signature.len(), out) {
            return;
        }
        if let Some(Kind::Reasoning(b)) = self.items.get_mut(i).map(|it| &mut it.kind) {
            b.signature.get_or_insert_with(String::new).push_str(signature);
        }
    }

    fn redacted_reasoning(&mut self, block: u32, data: &str, out: &mut Vec<u8>) {
        let redacted = || {
            Kind::Reasoning(ReasoningBlock {
                redacted: Some(String::new()),
                ..Default::default()
            })
        };
        let i = self.item_for(block, is_reasoning, redacted, out);
        if !self.hold(data.len(), out) {
            return;
        }
        if let Some(Kind::Reasoning(b)) = self.items.get_mut(i).map(|it| &mut it.kind) {
            b.redacted.get_or_insert_with(String::new).push_str(data);
        }
    }

    fn tool_use_start(&mut self, block: u32, id: &str, name: &str, out: &mut Vec<u8>) {
        if self.meta.json_tool.as_deref() == Some(name) {
            // The answer of `text.format` json: a message, its JSON streamed as text.
            self.item_for(
                block,
                |k| matches!(k, Kind::Message { .. }),
                || Kind::Message { text: String::new() },
                out,
            );
            return;
        }
        if !self.hold(id.len().saturating_add(name.len()), out) {
            return;
        }
        // A new tool call always starts a new item, even on a reused block index.
        if let Some(i) = self.items.iter().rposition(|it| it.block == block && !it.done) {
            self.close(i, out);
        }
        self.item_for(
            block,
            |_| false,
            || Kind::Call {
                call_id: id.to_string(),
                name: name.to_string(),
                args: String::new(),
            },
            out,
        );
    }

    fn tool_input(&mut self, block: u32, input: &str, out: &mut Vec<u8>) {
        let Some(i) = self.items.iter().rposition(|it| it.block == block && !it.done) else {
            // Input without a started tool call: nothing to attach it to.
            return;
        };
        if matches!(self.items.get(i).map(|it| &it.kind), Some(Kind::Message { .. })) {
            self.text_delta(block, input, out);
            return;
        }
        if !self.hold(input.len(), out) {
            return;
        }
        let Some(it) = self.items.get_mut(i) else { return };
        if let Kind::Call { args, .. } = &mut it.kind {
            args.push_str(input);
        }
        let seq = self.seq;
        Self::write_delta(
            &mut self.seq,
            Delta {
                kind: "response.function_call_arguments.delta",
                sequence_number: seq,
                item_id: &it.id,
                output_index: i,
                content_index: None,
                summary_index: None,
                delta: input,
                logprobs: None,
            },
            out,
        );
    }
}

impl EventSink for ResponsesSink {
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        self.start(out);
        match ev {
            Event::MessageStart => {}
            Event::Text { block, text } => self.text_delta(block, &text, out),
            Event::ReasoningText { block, text } => self.reasoning_delta(block, &text, out),
            Event::ReasoningSignature { block, signature } => self.reasoning_signature(block, &signature, out),
            Event::RedactedReasoning { block, data } => self.redacted_reasoning(block, &data, out),
            Event::ToolUseStart { block, id, name } => self.tool_use_start(block, &id, &name, out),
            Event::ToolInput { block, input } => self.tool_input(block, &input, out),
            Event::BlockStop { block } => {
                if let Some(i) = self.items.iter().rposition(|it| it.block == block && !it.done) {
                    self.close(i, out);
                }
            }
            Event::MessageStop { stop_reason } => {
                self.close_all(out);
                self.stop_reason = Some(stop_reason.into_owned());
            }
            Event::Metadata { usage, .. } => {
                if self.stop_reason.is_some() {
                    self.complete(usage.as_ref(), out);
                }
            }
        }
    }

    fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        self.start(out);
        let err = response::obj([
            ("code", e.code.as_deref().map(Value::from).unwrap_or(Value::Null)),
            ("message", Value::from(e.message.as_str())),
            ("param", e.param.as_deref().map(Value::from).unwrap_or(Value::Null)),
        ]);
        self.write("error", err, out);
        let v = self.response(State {
            status: Status::Failed,
            output: self.output(),
            usage: None,
            incomplete_reason: None,
            error: Some(e),
        });
        self.write("response.failed", v, out);
        self.terminated = true;
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        if self.stop_reason.is_some() {
            // messageStop without metadata: complete without usage.
            self.complete(None, out);
        } else {
            self.fail(&ApiError::bad_upstream(crate::bedrock::events::CUT_STREAM), out);
        }
    }

    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::converse::Reasoning;
    use crate::responses::reasoning;
    use std::borrow::Cow;

    fn meta() -> Meta {
        Meta {
            id: "resp_t".into(),
            created_at: 1,
            model: "m".into(),
            echo: serde_json::Map::new(),
            reasoning_as_summary: false,
            json_tool: None,
        }
    }

    fn events(out: &[u8]) -> Vec<Value> {
        std::str::from_utf8(out)
            .unwrap()
            .split_terminator("\n\n")
            .map(|e| serde_json::from_str(e.split_once("\ndata: ").unwrap().1).unwrap())
            .collect()
    }

    #[test]
    fn redacted_reasoning_is_an_item_without_parts() {
        let mut s = ResponsesSink::new(meta(), 1 << 20);
        let mut out = Vec::new();
        for ev in [
            Event::MessageStart,
            Event::RedactedReasoning {
                block: 0,
                data: Cow::Borrowed("QUJD"),
            },
            Event::BlockStop { block: 0 },
            Event::Text {
                block: 1,
                text: Cow::Borrowed("hi"),
            },
            Event::BlockStop { block: 1 },
            Event::MessageStop {
                stop_reason: Cow::Borrowed("end_turn"),
            },
            Event::Metadata {
                usage: None,
                latency_ms: None,
            },
        ] {
            s.event(ev, &mut out);
        }
        assert!(s.is_terminated());
        let evs = events(&out);
        let types: Vec<&str> = evs.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.output_item.done",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed"
            ]
        );
        let item = &evs[3]["item"];
        assert_eq!(
            reasoning::decode(item["encrypted_content"].as_str().unwrap()),
            Some(Reasoning::RedactedContent("QUJD".into()))
        );
        assert_eq!(evs[10]["response"]["output"][1]["content"][0]["text"], "hi");
    }

    #[test]
    fn a_stream_cut_before_message_stop_fails() {
        let mut s = ResponsesSink::new(meta(), 1 << 20);
        let mut out = Vec::new();
        s.event(
            Event::Text {
                block: 0,
                text: Cow::Borrowed("par"),
            },
            &mut out,
        );
        s.finish(&mut out);
        let evs = events(&out);
        let last = evs.last().unwrap();
        assert_eq!(last["type"], "response.failed");
        assert_eq!(last["response"]["output"][0]["content"][0]["text"], "par");
        assert_eq!(evs[evs.len() - 2]["type"], "error");
        // Nothing after the end.
        let n = out.len();
        s.finish(&mut out);
        s.event(Event::MessageStart, &mut out);
        assert_eq!(out.len(), n);
    }
}
