//! The proxy-wasm shell: Envoy's callbacks handed to the [`Exchange`], with the real host.
//!
//! One [`Root`] per plugin instance parses the configuration once; one [`Stream`] per HTTP
//! request holds only that request's exchange. Every decision is the exchange's; every host call
//! goes through [`Proxy`], which never panics.

use crate::exchange::{self, Exchange, Shared};
use crate::health::Prober;
use crate::metrics::Metrics;
use crate::proxy::Proxy;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};
use std::rc::Rc;

#[cfg(target_arch = "wasm32")]
proxy_wasm::main! {{
    static LOG: crate::proxy::LogBridge = crate::proxy::LogBridge;
    let _ = log::set_logger(&LOG);
    log::set_max_level(log::LevelFilter::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

/// The configuration of one plugin instance, or why it was refused.
pub struct Root {
    config: Shared,
    /// Defined once per plugin (per configuration), shared by its requests.
    metrics: Rc<Metrics>,
    /// The Bedrock health check's probes (`"health"`), driven by the timer.
    prober: Option<Prober>,
}

impl Default for Root {
    fn default() -> Self {
        Root {
            config: Rc::new(Err("the plugin configuration has not been loaded".to_string())),
            metrics: Rc::default(),
            prober: None,
        }
    }
}

impl Context for Root {
    fn on_http_call_response(&mut self, token_id: u32, _num_headers: usize, body_size: usize, _num_trailers: usize) {
        if let Some(p) = self.prober.as_mut() {
            p.on_response(&Proxy, token_id, body_size);
        }
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        self.config = exchange::configure(&Proxy, &|k| std::env::var(k).ok());
        // Metrics are defined on first use, from the new configuration's names.
        self.metrics = Rc::new(Metrics::default());
        if let Ok(c) = &*self.config {
            self.prober = Prober::start(&Proxy, c);
        }
        // Keep the plugin loaded either way: requests get a clear error, not a crash.
        true
    }

    fn on_tick(&mut self) {
        if let (Some(p), Ok(c)) = (self.prober.as_mut(), &*self.config) {
            p.on_tick(&Proxy, c);
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        let exchange = Exchange::new(Rc::clone(&self.config), context_id).with_metrics(Rc::clone(&self.metrics));
        Some(Box::new(Stream(exchange)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// Per-request context.
pub struct Stream(Exchange);

impl Context for Stream {}

fn action(a: exchange::Action) -> Action {
    match a {
        exchange::Action::Continue => Action::Continue,
        exchange::Action::Pause => Action::Pause,
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.0.on_request_headers(&mut Proxy, end_of_stream))
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.0.on_request_body(&mut Proxy, body_size, end_of_stream))
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.0.on_response_headers(&mut Proxy, end_of_stream))
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.0.on_response_body(&mut Proxy, body_size, end_of_stream))
    }

    fn on_log(&mut self) {
        self.0.on_log(&Proxy);
    }
}
