//! bedrock-bridge: a proxy-wasm HTTP filter that serves OpenAI chat completions from AWS Bedrock.
//!
//! Functional core (host-independent, unit-tested natively):
//! - [`config`]: the plugin configuration, parsed once per root context.
//! - [`request`]: OpenAI `POST /v1/chat/completions` body → Bedrock Converse body and path.
//! - [`eventstream`]: incremental `application/vnd.amazon.eventstream` decoder.
//! - [`stream`]: Bedrock ConverseStream events → OpenAI SSE chunks (one pipeline per stream).
//! - [`response`]: Bedrock Converse JSON → OpenAI `chat.completion`.
//! - [`sse`]: the OpenAI chunk types and their `data: …` encoding.
//! - [`openai`]: OpenAI response types shared by both translators; stop reason and usage mapping.
//! - [`error`]: OpenAI error objects and the Bedrock error mapping.
//! - [`signing`]: SigV4 / Bedrock API key authentication.
//! - [`bedrock`]: the provider side, typed: Converse request, ConverseStream events, Converse
//!   output, model-family rules.
//! - [`front`]: the contract between a client-facing API (front door) and the exchange.
//!
//! Thin shell: [`wasm`] moves bytes and headers between Envoy and that core, through the
//! panic-free host calls of [`host`].

pub mod bedrock;
pub mod config;
pub mod error;
pub mod eventstream;
pub mod front;
pub mod host;
pub mod openai;
pub mod request;
pub mod response;
pub mod responses;
pub mod signing;
pub mod sse;
pub mod stream;
pub mod wasm;
