//! Request repairs, the pipeline's second step ([`super::pipeline`]): applied to every chat-style
//! request so that nothing forwarded is a body Bedrock refuses by its own request rules.
//!
//! Each repair has one obvious meaning and is documented in the README's translation reference;
//! what cannot be repaired is a 400 naming the client's parameter.
//!
//! Order: tool history without declared tools → text; block repairs (blank text, unsigned
//! reasoning, empty/duplicate tool results, cache points the model cannot use); empty turns
//! left out and same-role neighbours merged; a leading assistant turn gets a user turn before
//! it; the final assistant prefill loses its trailing whitespace; tool-use ids mapped into
//! Bedrock's alphabet; empty stop strings dropped.

use super::converse::{
    ContentBlock, ConverseRequest, Message, Reasoning, Role, SystemBlock, ToolResult, ToolResultContent,
};
use super::models::Caching;
use crate::error::ApiError;
use std::collections::BTreeMap;

/// The text of the user turn put before a conversation that starts with an assistant turn
/// (Bedrock: "A conversation must start with a user message").
pub(crate) const LEADING_USER_TEXT: &str = ".";

/// The text of a tool result that had no content (Bedrock refuses blank text).
pub(crate) const EMPTY_TOOL_RESULT: &str = "(empty)";

/// Repair `req` in place, for a model that caches as `caching`; `declares_tools` is false when
/// the request will send no tools. Errors name the client's parameter (`messages`).
pub(crate) fn apply(req: &mut ConverseRequest, caching: Caching, declares_tools: bool) -> Result<(), ApiError> {
    if !declares_tools {
        tool_history_as_text(&mut req.messages);
    }
    for m in &mut req.messages {
        repair_blocks(&mut m.content, caching);
    }
    if caching == Caching::None {
        req.system.retain(|b| !matches!(b, SystemBlock::CachePoint(_)));
    }
    req.system
        .retain(|b| !matches!(b, SystemBlock::Text(t) if t.trim().is_empty()));
    normalize_turns(&mut req.messages);
    if req.messages.first().is_some_and(|m| m.role == Role::Assistant) {
        req.messages.insert(
            0,
            Message {
                role: Role::User,
                content: vec![ContentBlock::Text(LEADING_USER_TEXT.to_string())],
            },
        );
    }
    trim_prefill(&mut req.messages);
    if req.messages.is_empty() {
        return Err(ApiError::invalid_param(
            "messages",
            "`messages` must contain at least one user or assistant message with non-blank content",
        ));
    }
    map_tool_use_ids(&mut req.messages);
    req.inference_config.stop_sequences.retain(|s| !s.is_empty());
    Ok(())
}

/// Bedrock needs a `toolConfig` whenever the messages hold `toolUse`/`toolResult` blocks ("The
/// toolConfig field must be defined when using toolUse and toolResult content blocks."). When
/// the client declares no tools (none sent, or `tool_choice: "none"`), the history's tool calls
/// and results become text, so the model is offered no tool it could call.
fn tool_history_as_text(messages: &mut [Message]) {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for m in messages.iter_mut() {
        let blocks = std::mem::take(&mut m.content);
        for b in blocks {
            match b {
                ContentBlock::ToolUse(u) => {
                    let input = serde_json::to_string(&u.input).unwrap_or_default();
                    m.content.push(ContentBlock::Text(format!(
                        "[tool call {}: {} {input}]",
                        u.tool_use_id, u.name
                    )));
                    names.insert(u.tool_use_id, u.name);
                }
                ContentBlock::ToolResult(r) => {
                    let name = names.get(&r.tool_use_id).map(String::as_str).unwrap_or("tool");
                    let mut text = format!("[tool result {} ({name})", r.tool_use_id);
                    if r.status == Some("error") {
                        text.push_str(", error");
                    }
                    text.push_str("]:");
                    let mut extra = Vec::new();
                    for c in r.content {
                        match c {
                            ToolResultContent::Text(t) => {
                                text.push(' ');
                                text.push_str(&t);
                            }
                            ToolResultContent::Image(i) => extra.push(ContentBlock::Image(i)),
                            ToolResultContent::Document(d) => extra.push(ContentBlock::Document(d)),
                        }
                    }
                    m.content.push(ContentBlock::Text(text));
                    m.content.extend(extra);
                }
                other => m.content.push(other),
            }
        }
    }
}

/// One turn's blocks: blank text out, unsigned reasoning out, tool results with one entry per
/// id and non-blank content, cache points only where the model caches and after content.
fn repair_blocks(blocks: &mut Vec<ContentBlock>, caching: Caching) {
    let old = std::mem::take(blocks);
    for b in old {
        match b {
            ContentBlock::Text(t) if t.trim().is_empty() => {}
            ContentBlock::ReasoningContent(Reasoning::ReasoningText { signature, .. })
                if signature.as_deref().is_none_or(str::is_empty) => {}
            ContentBlock::CachePoint(_)
                if caching == Caching::None || blocks.iter().all(|b| matches!(b, ContentBlock::CachePoint(_))) => {}
            ContentBlock::ToolResult(mut r) => {
                r.content
                    .retain(|c| !matches!(c, ToolResultContent::Text(t) if t.trim().is_empty()));
                let earlier = blocks.iter_mut().find_map(|b| match b {
                    ContentBlock::ToolResult(e) if e.tool_use_id == r.tool_use_id => Some(e),
                    _ => None,
                });
                match earlier {
                    // Two results for one call ("duplicate Ids"): one result with both contents.
                    Some(e) => merge_result(e, r),
                    None => {
                        if r.content.is_empty() {
                            r.content.push(ToolResultContent::Text(EMPTY_TOOL_RESULT.to_string()));
                        }
                        blocks.push(ContentBlock::ToolResult(r));
                    }
                }
            }
            other => blocks.push(other),
        }
    }
}

/// Leave out turns with no content (an assistant `content: ""`) and merge the same-role turns
/// that leaves next to each other (Bedrock needs user/assistant alternation).
fn normalize_turns(messages: &mut Vec<Message>) {
    let old = std::mem::take(messages);
    for m in old {
        if m.content.iter().all(|b| matches!(b, ContentBlock::CachePoint(_))) {
            continue;
        }
        match messages.last_mut() {
            Some(prev) if prev.role == m.role => {
                if m.role == Role::User {
                    // Tool results first in a user turn (Claude: results must follow their calls).
                    let (mut results, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut prev.content)
                        .into_iter()
                        .chain(m.content)
                        .partition(|b| matches!(b, ContentBlock::ToolResult(_)));
                    if !results.is_empty() {
                        let mut merged = Vec::new();
                        repair_results(&mut results, &mut merged);
                        results = merged;
                    }
                    results.extend(rest);
                    prev.content = results;
                } else {
                    prev.content.extend(m.content);
                }
            }
            _ => messages.push(m),
        }
    }
}

/// Merge tool results of one id after turns were joined.
fn repair_results(results: &mut Vec<ContentBlock>, out: &mut Vec<ContentBlock>) {
    for b in results.drain(..) {
        if let ContentBlock::ToolResult(r) = b {
            match out.iter_mut().find_map(|o| match o {
                ContentBlock::ToolResult(e) if e.tool_use_id == r.tool_use_id => Some(e),
                _ => None,
            }) {
                Some(e) => merge_result(e, r),
                None => out.push(ContentBlock::ToolResult(r)),
            }
        }
    }
}

fn merge_result(e: &mut ToolResult, r: ToolResult) {
    e.content
        .retain(|c| !matches!(c, ToolResultContent::Text(t) if t == EMPTY_TOOL_RESULT));
    e.content.extend(r.content);
    if r.status == Some("error") {
        e.status = Some("error");
    }
    if e.content.is_empty() {
        e.content.push(ToolResultContent::Text(EMPTY_TOOL_RESULT.to_string()));
    }
}

/// A final assistant turn (a prefill) must not end with whitespace (Claude: "final assistant
/// content cannot end with trailing whitespace"): trim its last text block.
fn trim_prefill(messages: &mut Vec<Message>) {
    let Some(last) = messages.last_mut().filter(|m| m.role == Role::Assistant) else {
        return;
    };
    if let Some(ContentBlock::Text(t)) = last.content.last_mut() {
        let n = t.trim_end().len();
        t.truncate(n);
        if t.is_empty() {
            last.content.pop();
        }
    }
    if last.content.is_empty() {
        messages.pop();
    }
}

/// Bedrock's tool-use id alphabet (Claude's, the narrowest): 1-64 characters of `a-zA-Z0-9_-`.
pub(crate) fn is_valid_tool_use_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A tool-use id in Bedrock's alphabet, deterministically: a valid id is kept; otherwise each
/// byte outside `a-zA-Z0-9-` (and `_`) is written `_XX` (hex), so distinct ids stay distinct
/// and the mapping can be reversed; an escaped id longer than 64 characters keeps its first 47
/// and adds `_` and 16 hex digits of a hash of the whole id.
pub(crate) fn map_tool_use_id(id: &str) -> String {
    if is_valid_tool_use_id(id) {
        return id.to_string();
    }
    let mut out = String::with_capacity(id.len() + 8);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(b as char);
        } else {
            out.push('_');
            out.push_str(&format!("{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("_00");
    }
    if out.len() > 64 {
        out.truncate(47);
        out.push_str(&format!("_{:016x}", fnv1a(id.as_bytes())));
    }
    out
}

/// 64-bit FNV-1a: a stable hash without a dependency (ids, not security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Map every `toolUse`/`toolResult` id with [`map_tool_use_id`] (calls and results stay paired:
/// they map the same way).
fn map_tool_use_ids(messages: &mut [Message]) {
    for b in messages.iter_mut().flat_map(|m| m.content.iter_mut()) {
        let id = match b {
            ContentBlock::ToolUse(u) => &mut u.tool_use_id,
            ContentBlock::ToolResult(r) => &mut r.tool_use_id,
            _ => continue,
        };
        if !is_valid_tool_use_id(id) {
            *id = map_tool_use_id(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::converse::{CachePoint, InferenceConfig, Tool, ToolUse};
    use serde_json::json;

    const CLAUDE: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";
    const LLAMA: &str = "meta.llama3-8b-instruct-v1:0";

    fn text(t: &str) -> ContentBlock {
        ContentBlock::Text(t.into())
    }
    fn msg(role: Role, content: Vec<ContentBlock>) -> Message {
        Message { role, content }
    }
    fn user(t: &str) -> Message {
        msg(Role::User, vec![text(t)])
    }
    fn use_(id: &str) -> ContentBlock {
        ContentBlock::ToolUse(ToolUse {
            input: json!({}),
            name: "f".into(),
            tool_use_id: id.into(),
        })
    }
    fn result(id: &str, t: &str) -> ContentBlock {
        ContentBlock::ToolResult(ToolResult {
            content: vec![ToolResultContent::Text(t.into())],
            status: None,
            tool_use_id: id.into(),
        })
    }
    fn with_tools(model: &str, messages: Vec<Message>) -> ConverseRequest {
        ConverseRequest {
            model_id: model.into(),
            messages,
            tool_config: Some(crate::bedrock::converse::ToolConfig {
                tool_choice: None,
                tools: vec![Tool::ToolSpec(crate::bedrock::converse::ToolSpec {
                    description: None,
                    input_schema: crate::bedrock::converse::InputSchema {
                        json: json!({"type": "object"}).into(),
                    },
                    name: "f".into(),
                    strict: None,
                })],
            }),
            ..Default::default()
        }
    }
    fn run(req: &mut ConverseRequest) {
        let declares = req.tool_config.is_some();
        apply(req, crate::bedrock::catalog::lookup(&req.model_id).caching, declares).unwrap()
    }

    #[test]
    fn blank_text_is_dropped_and_empty_results_get_a_placeholder() {
        let mut r = with_tools(
            CLAUDE,
            vec![
                user("q"),
                msg(Role::Assistant, vec![text("\n\n"), use_("a")]),
                msg(Role::User, vec![result("a", "  ")]),
            ],
        );
        run(&mut r);
        assert_eq!(r.messages[1].content, vec![use_("a")]);
        assert_eq!(r.messages[2].content, vec![result("a", EMPTY_TOOL_RESULT)]);
    }

    #[test]
    fn duplicate_results_become_one() {
        let mut r = with_tools(
            CLAUDE,
            vec![
                user("q"),
                msg(Role::Assistant, vec![use_("a")]),
                msg(Role::User, vec![result("a", "1"), result("a", "2")]),
            ],
        );
        run(&mut r);
        let ContentBlock::ToolResult(t) = &r.messages[2].content[0] else {
            panic!()
        };
        assert_eq!(r.messages[2].content.len(), 1);
        assert_eq!(
            t.content,
            vec![ToolResultContent::Text("1".into()), ToolResultContent::Text("2".into())]
        );
    }

    #[test]
    fn unsigned_reasoning_is_dropped_signed_kept() {
        let signed = ContentBlock::ReasoningContent(Reasoning::ReasoningText {
            signature: Some("s".into()),
            text: "".into(),
        });
        let unsigned = ContentBlock::ReasoningContent(Reasoning::ReasoningText {
            signature: None,
            text: "t".into(),
        });
        let mut r = ConverseRequest {
            model_id: CLAUDE.into(),
            messages: vec![
                user("a"),
                msg(Role::Assistant, vec![unsigned, text("x")]),
                user("b"),
                msg(Role::Assistant, vec![signed.clone(), text("y")]),
                user("c"),
            ],
            ..Default::default()
        };
        run(&mut r);
        assert_eq!(r.messages[1].content, vec![text("x")]);
        assert_eq!(r.messages[3].content[0], signed);
    }

    #[test]
    fn empty_turns_skipped_neighbours_merged_leading_assistant_gets_a_user_turn() {
        let mut r = ConverseRequest {
            model_id: CLAUDE.into(),
            messages: vec![user("one"), msg(Role::Assistant, vec![]), user("two")],
            ..Default::default()
        };
        run(&mut r);
        assert_eq!(r.messages, vec![msg(Role::User, vec![text("one"), text("two")])]);
        let mut r = ConverseRequest {
            model_id: CLAUDE.into(),
            messages: vec![msg(Role::Assistant, vec![text("Hi!")]), user("q")],
            ..Default::default()
        };
        run(&mut r);
        assert_eq!(r.messages[0], user(LEADING_USER_TEXT));
        assert_eq!(r.messages[1].role, Role::Assistant);
        let mut r = ConverseRequest {
            model_id: CLAUDE.into(),
            messages: vec![user(" ")],
            ..Default::default()
        };
        assert_eq!(
            apply(&mut r, Caching::Full, false).unwrap_err().param.as_deref(),
            Some("messages")
        );
    }

    #[test]
    fn prefill_is_trimmed() {
        let mut r = ConverseRequest {
            model_id: CLAUDE.into(),
            messages: vec![user("q"), msg(Role::Assistant, vec![text("The colour is ")])],
            ..Default::default()
        };
        run(&mut r);
        assert_eq!(r.messages[1].content, vec![text("The colour is")]);
    }

    #[test]
    fn cache_points_only_where_the_model_caches() {
        let cp = || ContentBlock::CachePoint(CachePoint::DEFAULT);
        let make = |model: &str| ConverseRequest {
            model_id: model.into(),
            system: vec![
                SystemBlock::Text("s".into()),
                SystemBlock::CachePoint(CachePoint::DEFAULT),
            ],
            messages: vec![msg(Role::User, vec![text("hi"), cp()])],
            ..Default::default()
        };
        let mut r = make(LLAMA);
        run(&mut r);
        assert!(!serde_json::to_string(&r).unwrap().contains("cachePoint"));
        let mut r = make(CLAUDE);
        run(&mut r);
        assert_eq!(r.messages[0].content, vec![text("hi"), cp()]);
        assert_eq!(r.system.len(), 2);
    }

    #[test]
    fn ids_are_mapped_deterministically_and_stay_distinct() {
        assert_eq!(map_tool_use_id("call_1"), "call_1");
        assert_eq!(
            map_tool_use_id("functions.get_weather:0"),
            "functions_2Eget_5Fweather_3A0"
        );
        assert_ne!(map_tool_use_id("call:1"), map_tool_use_id("call.1"));
        let long = format!("call_{}", "x".repeat(70));
        let m = map_tool_use_id(&long);
        assert!(is_valid_tool_use_id(&m), "{m}");
        assert_eq!(m, map_tool_use_id(&long));
        assert_ne!(m, map_tool_use_id(&format!("{long}y")));
        assert!(is_valid_tool_use_id(&map_tool_use_id("")));
        assert!(is_valid_tool_use_id(&map_tool_use_id(&"é".repeat(40))));
        let mut r = with_tools(
            CLAUDE,
            vec![
                user("q"),
                msg(Role::Assistant, vec![use_("a:1")]),
                msg(Role::User, vec![result("a:1", "r")]),
            ],
        );
        run(&mut r);
        assert_eq!(r.messages[1].content, vec![use_("a_3A1")]);
        assert_eq!(r.messages[2].content, vec![result("a_3A1", "r")]);
    }

    #[test]
    fn tool_history_without_tools_becomes_text() {
        let mut r = ConverseRequest {
            model_id: CLAUDE.into(),
            messages: vec![
                user("q"),
                msg(Role::Assistant, vec![use_("a")]),
                msg(Role::User, vec![result("a", "-3C")]),
                msg(Role::Assistant, vec![text("cold")]),
                user("thanks"),
            ],
            ..Default::default()
        };
        run(&mut r);
        assert!(r.tool_config.is_none());
        assert_eq!(r.messages[1].content, vec![text("[tool call a: f {}]")]);
        assert_eq!(
            r.messages[0].content,
            vec![text("q")],
            "the user turn before the call is unchanged"
        );
        assert_eq!(r.messages[2].content, vec![text("[tool result a (f)]: -3C")]);
        assert!(!r
            .messages
            .iter()
            .flat_map(|m| &m.content)
            .any(|b| matches!(b, ContentBlock::ToolUse(_) | ContentBlock::ToolResult(_))));
    }

    #[test]
    fn empty_stop_strings_are_dropped() {
        let mut r = ConverseRequest {
            model_id: CLAUDE.into(),
            messages: vec![user("q")],
            inference_config: InferenceConfig {
                stop_sequences: vec!["".into(), "END".into()],
                ..Default::default()
            },
            ..Default::default()
        };
        run(&mut r);
        assert_eq!(r.inference_config.stop_sequences, vec!["END".to_string()]);
    }
}
