//! The OpenAI chat completions front door.

pub mod reply;
pub mod response;
pub mod sse;
pub mod stream;
