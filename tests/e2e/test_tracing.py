"""Traces in real Envoy: the OpenTelemetry tracer of envoy/tracing.yaml exports each request's
span over OTLP/HTTP to a local receiver (below), with the filter's usage as span attributes
(filter state read by `custom_tags[].value`, Envoy 1.37+)."""

import http.server
import threading
import time

import anthropic
import openai
import pytest
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (ExportTraceServiceRequest,
                                                                        ExportTraceServiceResponse)

from conftest import AKID, CLAUDE, REGION, SECRET, TOKEN
from harness import ARTIFACTS, ROOT, Envoy, free_port, render_config

CONFIG = {"region": REGION, "credentials": {"access_key_id": AKID, "secret_access_key": SECRET, "session_token": TOKEN},
          "models": {"claude": CLAUDE}}


class Receiver(http.server.ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver (protobuf): keeps every span's attributes."""

    def __init__(self):
        self.spans, self.lock = [], threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                req = ExportTraceServiceRequest()
                req.ParseFromString(self.body())
                with receiver.lock:
                    for rs in req.resource_spans:
                        for ss in rs.scope_spans:
                            for span in ss.spans:
                                attrs = {a.key: a.value.string_value for a in span.attributes}
                                receiver.spans.append({"name": span.name, "attributes": attrs})
                body = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def body(self):
                if self.headers.get("content-length"):
                    return self.rfile.read(int(self.headers["content-length"]))
                data = b""  # Envoy's OTLP/HTTP exporter sends the body chunked
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    data += self.rfile.read(size)
                    self.rfile.readline()
                self.rfile.readline()
                return data

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def traced(sim):
    receiver = Receiver()
    example = yaml.safe_load((ROOT / "envoy" / "tracing.yaml").read_text())
    otlp_port = receiver.server_address[1]
    tracing = example["tracing"]
    uri = tracing["provider"]["typed_config"]["http_service"]["http_uri"]
    uri["uri"] = uri["uri"].replace("4318", str(otlp_port))
    cluster = example["clusters"][0]
    cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]["port_value"] = otlp_port
    port, admin = free_port(), free_port()
    # Export at once rather than every 5 s (Envoy's OpenTelemetry tracer runtime keys).
    runtime = {"layers": [{"name": "static", "static_layer": {"tracing.opentelemetry.min_flush_spans": 1,
                                                               "tracing.opentelemetry.flush_interval_ms": 200}}]}
    config = render_config(port, admin, CONFIG, ("127.0.0.1", sim.port), hcm_extra={"tracing": tracing},
                           bootstrap_extra={"layered_runtime": runtime})
    config["static_resources"]["clusters"].append(cluster)
    envoy = Envoy.__new__(Envoy)
    envoy.launch(config, port, admin, ARTIFACTS / f"tracing-{port}")
    yield envoy, receiver
    envoy.stop()
    receiver.shutdown()


def spans_with(receiver, key, value, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with receiver.lock:
            found = [s for s in receiver.spans if s["attributes"].get(key) == value]
        if found:
            return found
        time.sleep(0.2)
    return []


def test_span_tags_carry_the_filters_usage_for_chat_and_messages(traced, sim):
    envoy, receiver = traced
    sim.reset()
    oc = openai.OpenAI(base_url=envoy.base_url, api_key="sk", max_retries=0, timeout=30)
    r = oc.chat.completions.create(model="claude", messages=[{"role": "user", "content": "hi"}])
    chat = spans_with(receiver, "gen_ai.operation.name", "chat")
    assert chat, f"no chat span among {receiver.spans}"
    a = chat[-1]["attributes"]
    assert a["gen_ai.provider.name"] == "aws.bedrock"
    assert a["gen_ai.request.model"] == "claude"
    assert a["bedrock.profile"] == "default"
    assert a["gen_ai.usage.output_tokens"] == str(r.usage.completion_tokens)
    assert int(a["gen_ai.usage.input_tokens"]) == r.usage.prompt_tokens - r.usage.prompt_tokens_details.cached_tokens

    ac = anthropic.Anthropic(base_url=envoy.base_url.removesuffix("/v1"), api_key="sk-ant", max_retries=0, timeout=30)
    with ac.messages.stream(model="claude", max_tokens=64, messages=[{"role": "user", "content": "hello"}]) as s:
        final = s.get_final_message()
    messages = spans_with(receiver, "gen_ai.operation.name", "messages")
    assert messages, f"no messages span among {receiver.spans}"
    a = messages[-1]["attributes"]
    assert a["gen_ai.usage.output_tokens"] == str(final.usage.output_tokens)
    assert a["bedrock.ttft_ms"].isdigit(), a
