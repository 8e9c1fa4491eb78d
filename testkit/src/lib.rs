//! Dev-only test kit for bedrock-bridge, shared by the filter's unit and integration tests, the
//! criterion benchmarks and the fuzz targets (never a dependency of the filter itself).
//!
//! - [`frame`]: an eventstream frame encoder (any header type, malformed frames too).
//! - [`replay`]: feed a body to a streaming pipeline in chunks: at given cuts, at every split
//!   point, byte by byte, at pseudo-random cuts.
//! - [`sse`]: split and check OpenAI SSE output.
//! - [`recordings`]: the recorded Bedrock responses and vectors under `tests/fixtures`.
//!
//! It does not depend on the filter crate (so the filter's own unit tests can use it): a
//! pipeline is passed in as a closure `FnMut(chunk, end_of_stream, out)`.

pub mod frame;
pub mod recordings;
pub mod replay;
pub mod sse;
