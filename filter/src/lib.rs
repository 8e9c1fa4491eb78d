//! bedrock-bridge: a proxy-wasm HTTP filter that serves OpenAI chat completions, OpenAI
//! Responses, Anthropic Messages and embeddings from AWS Bedrock.
//!
//! Functional core (host-independent, unit-tested natively):
//! - [`config`]: the plugin configuration, parsed once per root context.
//! - [`eventstream`]: incremental `application/vnd.amazon.eventstream` decoder.
//! - [`chat`]: the OpenAI chat completions front door ([`chat::CHAT`]): request parsing and
//!   validation into a Converse request ([`chat::request`]); its response side ([`chat::reply`],
//!   [`chat::stream`]) turns ConverseStream events into OpenAI SSE chunks and Converse output
//!   into `chat.completion`.
//! - [`responses`], [`anthropic`]: the OpenAI Responses and Anthropic Messages front doors, in
//!   the same shape; [`embeddings`]: OpenAI embeddings.
//! - [`error`]: OpenAI error objects and the Bedrock error mapping.
//! - [`signing`]: SigV4 / Bedrock API key authentication.
//! - [`sse_usage`]: usage, first token and errors read from an SSE stream passed through
//!   unchanged (Bedrock Mantle).
//! - [`bedrock`]: the provider side, typed: Converse request, ConverseStream events, Converse
//!   output, the request pipeline every chat-style front door ends in, model knowledge, the
//!   OpenAI-compatible and Mantle passthrough.
//! - `meter`: what each response said about itself (usage, first token, errors), fed by
//!   every stream, JSON answer and passed-through body alike.
//! - [`front`]: the contract between a client-facing API (front door) and the exchange.
//! - `health`: the Bedrock health check (cached CountTokens probes, `GET /healthz/bedrock`);
//!   `budget`: the per-profile token budget; [`metrics`]: the filter's metrics.
//! - [`exchange`]: the per-request state machine (routing, header policy, ids, `/v1/models`,
//!   local replies), host-free behind the [`host::Host`] trait.
//!
//! Thin shell: [`wasm`] hands Envoy's callbacks to the exchange, with `proxy::Proxy`, the
//! panic-free proxy-wasm implementation of [`host::Host`].
//!
//! Public API: what the integration tests (`filter/tests`), the fuzz targets and the benchmarks
//! drive, and nothing else: the configuration, each front door's request entry point and reply
//! writers, the response stream and its decoders, the error mapping, signing, and the exchange
//! with its host trait. Everything else is crate-private, so the compiler reports what nothing
//! uses.

// On wasm32-unknown-unknown only the host-free core is built, for its wasm-bindgen tests: the
// root context's code (configuration loading, the health check's probes), which the shell calls,
// is unused there.
// Items not reachable from outside the crate are `pub(crate)`, so unused ones show as dead code.
#![warn(unreachable_pub)]
#![cfg_attr(all(target_arch = "wasm32", target_os = "unknown"), allow(dead_code))]

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
pub mod meter;
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
