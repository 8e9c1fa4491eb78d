//! The provider side, host-free: Amazon Bedrock's Converse API as typed Rust.
//!
//! Every front door (OpenAI chat completions, the Responses API, Anthropic Messages) builds a
//! [`pipeline::Draft`], which [`pipeline::finish`] turns into a [`converse::ConverseRequest`] by
//! Bedrock's rules (reading the model's [`catalog`] entry), and consumes the
//! answer as typed [`events::Event`]s (streaming) or a typed [`output::ConverseOutput`]
//! (non-streaming). Nothing here knows about OpenAI or Anthropic shapes, or about proxy-wasm.

pub(crate) mod build;
pub(crate) mod catalog;
pub mod converse;
pub mod events;
pub(crate) mod fit;
pub mod mantle_claude;
pub mod messages_events;
pub(crate) mod models;
pub mod output;
pub mod passthrough;
pub(crate) mod pipeline;
pub(crate) mod repair;
pub(crate) mod thinking;
