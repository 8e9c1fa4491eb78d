//! The `encrypted_content` of reasoning items: a Bedrock reasoning block, carried by the client
//! from one response to the next request so that tool loops with thinking keep their signed block.
//!
//! Encoding, version 1: standard base64 (with padding) of a compact JSON object
//! `{"v":1,"t":"<reasoning text>","s":"<signature>"}` (`s` absent when Bedrock gave none) or
//! `{"v":1,"r":"<redacted content, base64>"}`. Nothing secret is in it (Bedrock's signature is
//! what protects the block; Bedrock refuses an altered one), so it is encoded, not encrypted.

use crate::bedrock::converse::Reasoning;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    v: u32,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    t: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    s: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    r: Option<std::borrow::Cow<'a, str>>,
}

/// Encode a signed (or unsigned) reasoning text block.
pub fn encode_text(text: &str, signature: Option<&str>) -> String {
    let w = Wire {
        v: 1,
        t: Some(text.into()),
        s: signature.map(Into::into),
        r: None,
    };
    STANDARD.encode(serde_json::to_vec(&w).unwrap_or_default())
}

/// Encode a redacted reasoning block.
pub fn encode_redacted(data: &str) -> String {
    let w = Wire {
        v: 1,
        t: None,
        s: None,
        r: Some(data.into()),
    };
    STANDARD.encode(serde_json::to_vec(&w).unwrap_or_default())
}

/// The Bedrock block inside an `encrypted_content`, or None when it is not one this gateway
/// wrote (unknown version, not base64, not the JSON above).
pub fn decode(s: &str) -> Option<Reasoning> {
    let bytes = STANDARD.decode(s.trim()).ok()?;
    let w: Wire = serde_json::from_slice(&bytes).ok()?;
    if w.v != 1 {
        return None;
    }
    match (w.t, w.s, w.r) {
        (Some(t), s, None) => Some(Reasoning::ReasoningText {
            signature: s.map(|s| s.into_owned()),
            text: t.into_owned(),
        }),
        (None, None, Some(r)) if !r.is_empty() => Some(Reasoning::RedactedContent(r.into_owned())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let e = encode_text("I think \"so\"\n", Some("c2ln"));
        assert_eq!(
            decode(&e),
            Some(Reasoning::ReasoningText {
                signature: Some("c2ln".into()),
                text: "I think \"so\"\n".into()
            })
        );
        assert_eq!(
            decode(&encode_text("", None)),
            Some(Reasoning::ReasoningText {
                signature: None,
                text: String::new()
            })
        );
        assert_eq!(
            decode(&encode_redacted("AAAA")),
            Some(Reasoning::RedactedContent("AAAA".into()))
        );
    }

    #[test]
    fn refuses_foreign_content() {
        assert_eq!(decode("gAAAAABoxyz"), None);
        assert_eq!(decode(""), None);
        assert_eq!(decode(&STANDARD.encode(br#"{"v":2,"t":"x"}"#)), None);
        assert_eq!(decode(&STANDARD.encode(br#"{"v":1,"t":"x","r":"y"}"#)), None);
        assert_eq!(decode(&STANDARD.encode(br#"{"v":1}"#)), None);
        assert_eq!(decode(&STANDARD.encode(b"[1]")), None);
    }
}
