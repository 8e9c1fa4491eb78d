//! No-op body filter: per response body chunk, read the bytes and write them back (the same
//! host calls bedrock-bridge makes), to measure Envoy's own per-call wasm cost.
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root) });
}}
struct Root;
impl Context for Root {}
impl RootContext for Root {
    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream))
    }
    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
struct Stream;
impl Context for Stream {}
impl HttpContext for Stream {
    fn on_http_response_body(&mut self, body_size: usize, _eos: bool) -> Action {
        if let Some(b) = self.get_http_response_body(0, body_size) {
            let mut out = Vec::with_capacity(b.len() * 2);
            out.extend_from_slice(&b);
            self.set_http_response_body(0, body_size, &out);
        }
        Action::Continue
    }
}
