//! bedrock-bridge: a proxy-wasm HTTP filter that serves OpenAI chat completions from AWS Bedrock.
//!
//! Functional core (host-independent, unit-tested natively):
//! - [`config`]: the plugin configuration, parsed once per root context.
//! - [`eventstream`]: incremental `application/vnd.amazon.eventstream` decoder.
//! - [`chat`]: the OpenAI chat completions front door ([`chat::ChatFront`]): request parsing and
//!   validation into a Converse request ([`chat::request`]); its response side ([`chat::reply`],
//!   [`chat::stream`], [`chat::response`], [`chat::sse`]) turns ConverseStream events into
//!   OpenAI SSE chunks and Converse output into `chat.completion`.
//! - [`openai`]: OpenAI response types shared by front doors; stop reason, usage and reasoning
//!   field mapping.
//! - [`error`]: OpenAI error objects and the Bedrock error mapping.
//! - [`signing`]: SigV4 / Bedrock API key authentication.
//! - [`sse_usage`]: usage, first token and errors read from an SSE stream passed through
//!   unchanged (Bedrock Mantle).
//! - [`bedrock`]: the provider side, typed: Converse request, ConverseStream events, Converse
//!   output, shared request builders, the request pipeline every chat-style front door ends in
//!   ([`bedrock::pipeline`]), model knowledge, the OpenAI-compatible passthrough.
//! - [`meter`]: what each response said about itself (usage, first token, errors), fed by
//!   every stream, JSON answer and passed-through body alike.
//! - [`front`]: the contract between a client-facing API (front door) and the exchange.
//! - [`health`]: the Bedrock health check (cached CountTokens probes, `GET /healthz/bedrock`).
//! - [`exchange`]: the per-request state machine (routing, header policy, ids, `/v1/models`,
//!   local replies), host-free behind the [`host::Host`] trait.
//!
//! Thin shell: [`wasm`] hands Envoy's callbacks to the exchange, with [`proxy::Proxy`], the
//! panic-free proxy-wasm implementation of [`host::Host`].

pub mod anthropic;
pub mod bedrock;
mod budget;
mod bytes;
pub mod chat;
pub mod config;
mod crc32;
pub mod embeddings;
pub mod error;
pub mod eventstream;
pub mod exchange;
pub mod front;
mod health;
pub mod host;
mod meter;
pub mod metrics;
mod openai;
// The proxy-wasm shell imports Envoy's host functions: not on wasm32-unknown-unknown, where only
// the host-free core runs (its tests under wasm-bindgen-test, scripts/test-wasm-bindgen.sh).
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
mod proxy;
pub mod responses;
pub mod signing;
pub mod sse_usage;
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub mod wasm;
