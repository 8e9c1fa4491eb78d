"""`"signing": "envoy"`: the filter translates, Envoy's own envoy.filters.http.aws_request_signing
filter after it signs with its AWS credential chain. Checked in real Envoy against the simulator,
which verifies every signature with botocore and records the access key that signed it.

Sources exercised here: environment variables, a shared credentials file, container credentials
(the ECS / EKS Pod Identity endpoint, served on loopback) including rotation, a per-route
override (two routes, two identities), and the instance profile (IMDSv2 on 169.254.169.254 in a
network namespace of the test's own, imds_netns.py; skipped where unshare is not allowed). STS
(web identity / IRSA, assume-role) needs AWS's TLS endpoints and is not exercised.
"""

import datetime
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import openai
import pytest

from conftest import CLAUDE, REGION
from harness import aws_signer

NOVA = "amazon.nova-lite-v1:0"
POD_TOKEN = "pod-identity-authorization-token"
ENV_KEY = ("AKIDENVIRONMENT", "env/secret/key", None)
FILE_KEY = ("AKIDCREDENTIALSFILE", "file/secret/key", "file-session-token")
ROUTE_KEY = ("AKIDSECONDIDENTITY", "second/identity/secret", None)
MSG = [{"role": "user", "content": "ping"}]


def envoy_signing(**overrides):
    cfg = {"region": REGION, "signing": "envoy", "models": {"claude": CLAUDE, "nova": NOVA}}
    cfg.update(overrides)
    return cfg


def base_env(tmp: Path) -> dict:
    """Nothing from the test machine's own AWS setup, and no IMDS probe."""
    return {"HOME": str(tmp), "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-such-file"), "AWS_CONFIG_FILE": str(tmp / "no-such-config")}


def client_for(e) -> openai.OpenAI:
    return openai.OpenAI(base_url=e.base_url, api_key="sk-client-secret-never-forwarded", max_retries=0, timeout=30)


def raw_post(e, path, body: dict, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{e.port}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


class ContainerCredentials:
    """The ECS / EKS Pod Identity credentials endpoint: checks the authorization token and hands
    out short-lived credentials; `rotate()` switches to a new key pair."""

    def __init__(self, sim, lifetime_s: int):
        self.sim, self.lifetime_s = sim, lifetime_s
        self.generation, self.calls, self.bad_auth = 0, 0, 0
        self.lock = threading.Lock()
        self.rotate()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                with outer.lock:
                    outer.calls += 1
                    if self.headers.get("authorization") != POD_TOKEN:
                        outer.bad_auth += 1
                        self.send_response(401)
                        self.end_headers()
                        return
                    akid, secret, token = outer.current
                expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=outer.lifetime_s)
                data = json.dumps({"AccessKeyId": akid, "SecretAccessKey": secret, "Token": token,
                                   "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v2/credentials/pod-identity"

    def rotate(self):
        with self.lock:
            self.generation += 1
            g = self.generation
            self.current = (f"ASIAPODIDENTITY{g:05d}", f"pod/secret/{g}", f"pod-session-token-{g}")
        self.sim.sim.add_key(*self.current)
        return self.current[0]


@pytest.fixture(scope="module")
def container(sim):
    c = ContainerCredentials(sim, lifetime_s=8)
    yield c
    c.server.shutdown()


@pytest.fixture(scope="module")
def pod_envoy(sim, container, tmp_path_factory):
    """Envoy's default chain finds the container credentials endpoint (EKS Pod Identity style)."""
    from harness import Envoy
    tmp = tmp_path_factory.mktemp("pod")
    e = Envoy(envoy_signing(), upstream=("127.0.0.1", sim.port), name="pod", signer=aws_signer(REGION),
              env={**base_env(tmp), "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url,
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": POD_TOKEN})
    yield e
    e.stop()


def test_container_credentials_sign_plain_and_streaming(pod_envoy, container, sim):
    sim.reset()
    c = client_for(pod_envoy)
    r = c.chat.completions.create(model="claude", messages=MSG)
    assert r.choices[0].message.content == "You said: ping"
    text = "".join(ch.choices[0].delta.content or "" for ch in
                   c.chat.completions.create(model="claude", messages=MSG, stream=True) if ch.choices)
    assert text == "You said: ping"
    reqs = sim.requests
    assert [q["path"].rsplit("/", 1)[1] for q in reqs] == ["converse", "converse-stream"]
    for q in reqs:
        assert q["signature_ok"], q
        assert q["access_key"].startswith("ASIAPODIDENTITY")
        assert q["headers"]["x-amz-security-token"].startswith("pod-session-token-")
        assert "sk-client-secret" not in json.dumps(q["headers"])
    assert container.calls >= 1 and container.bad_auth == 0


def test_container_credentials_rotate(pod_envoy, container, sim):
    """The endpoint's credentials expire in 8 s; after rotation requests keep succeeding and Bedrock
    sees the new key (Envoy refreshes before the expiration)."""
    c = client_for(pod_envoy)
    sim.reset()
    c.chat.completions.create(model="claude", messages=MSG)
    [first] = sim.requests
    assert first["signature_ok"]
    new_key = container.rotate()
    assert first["access_key"] != new_key
    seen, deadline = [], time.time() + 40
    while time.time() < deadline:
        sim.reset()
        r = c.chat.completions.create(model="claude", messages=MSG)
        assert r.choices[0].message.content == "You said: ping"
        [q] = sim.requests
        assert q["signature_ok"], q
        seen.append(q["access_key"])
        if q["access_key"] == new_key:
            break
        time.sleep(1)
    assert seen[-1] == new_key, f"Envoy never picked up the rotated key: {seen}"


def test_untranslated_requests_never_reach_the_signer(pod_envoy, sim):
    """A client calling Bedrock's own API through the gateway gets a 404 from the filter; nothing
    reaches Envoy's signer, so nothing goes out with the gateway's identity."""
    sim.reset()
    body = {"messages": [{"role": "user", "content": [{"text": "ping"}]}], "inferenceConfig": {"maxTokens": 10},
            "anthropic_version": "bedrock-2023-05-31", "max_tokens": 10}
    enc = CLAUDE.replace(":", "%3A")
    for path in [f"/model/{enc}/invoke", f"/model/{enc}/converse", f"/model/{enc}/converse-stream",
                 f"/model/{CLAUDE}/invoke-with-response-stream", "/guardrail/g/version/1/apply"]:
        for headers in [{}, {"host": f"bedrock-runtime.{REGION}.amazonaws.com", "authorization": "Bearer x"}]:
            status, err = raw_post(pod_envoy, path, body, headers)
            assert status == 404, (path, status, err)
            assert err["error"]["code"] == "unknown_url"
    assert sim.requests == [], "an untranslated request reached Bedrock"


@pytest.fixture(scope="module")
def env_envoy(sim, tmp_path_factory):
    """Environment credentials for the default route, a second identity on the Nova route."""
    from harness import Envoy
    sim.sim.add_key(*ENV_KEY)
    sim.sim.add_key(*ROUTE_KEY)
    tmp = tmp_path_factory.mktemp("env")
    akid, secret, _ = ROUTE_KEY
    routes = [
        # Envoy matches again after the filter rewrites :path: route by the Bedrock model id.
        {"match": {"prefix": "/model/" + NOVA.replace(":", "%3A") + "/"},
         "route": {"cluster": "bedrock", "timeout": "60s"},
         "typed_per_filter_config": {"envoy.filters.http.aws_request_signing": {
             "@type": "type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigningPerRoute",
             "stat_prefix": "nova_identity",
             "aws_request_signing": aws_signer(REGION, {"inline_credential": {
                 "access_key_id": akid, "secret_access_key": secret}})}}},
        {"match": {"prefix": "/"}, "route": {"cluster": "bedrock", "timeout": "60s"}},
    ]
    e = Envoy(envoy_signing(), upstream=("127.0.0.1", sim.port), name="envsign", signer=aws_signer(REGION),
              routes=routes, env={**base_env(tmp), "AWS_ACCESS_KEY_ID": ENV_KEY[0], "AWS_SECRET_ACCESS_KEY": ENV_KEY[1]})
    yield e
    e.stop()


def test_environment_credentials_and_per_route_identity(env_envoy, sim):
    sim.reset()
    c = client_for(env_envoy)
    for model in ["claude", "nova"]:
        assert c.chat.completions.create(model=model, messages=MSG).choices[0].message.content == "You said: ping"
        text = "".join(ch.choices[0].delta.content or "" for ch in
                       c.chat.completions.create(model=model, messages=MSG, stream=True) if ch.choices)
        assert text == "You said: ping"
    reqs = sim.requests
    assert all(q["signature_ok"] for q in reqs), reqs
    assert [(q["model_id"], q["access_key"]) for q in reqs] == [
        (CLAUDE, ENV_KEY[0]), (CLAUDE, ENV_KEY[0]), (NOVA, ROUTE_KEY[0]), (NOVA, ROUTE_KEY[0])]
    assert all("x-amz-security-token" not in q["headers"] for q in reqs)


def test_credentials_file(sim, start_envoy, tmp_path):
    sim.sim.add_key(*FILE_KEY)
    creds = tmp_path / "credentials"
    creds.write_text(f"[default]\naws_access_key_id = AKIDWRONGPROFILE\naws_secret_access_key = x\n\n"
                     f"[bedrock]\naws_access_key_id = {FILE_KEY[0]}\naws_secret_access_key = {FILE_KEY[1]}\n"
                     f"aws_session_token = {FILE_KEY[2]}\n")
    e = start_envoy(envoy_signing(), signer=aws_signer(REGION),
                    env={**base_env(tmp_path), "AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_PROFILE": "bedrock"})
    sim.reset()
    r = client_for(e).chat.completions.create(model="claude", messages=MSG)
    assert r.choices[0].message.content == "You said: ping"
    [q] = sim.requests
    assert q["signature_ok"] and q["access_key"] == FILE_KEY[0], q
    assert q["headers"]["x-amz-security-token"] == FILE_KEY[2]


def test_missing_signer_is_a_loud_gateway_error(sim, start_envoy, tmp_path):
    """`signing: envoy` without the signer: the request reaches Bedrock unsigned (no credentials of
    anyone's in it), Bedrock refuses it, and the client gets a 500 naming the missing filter."""
    e = start_envoy(envoy_signing(), env=base_env(tmp_path))
    sim.reset()
    with pytest.raises(openai.InternalServerError) as exc:
        client_for(e).chat.completions.create(model="claude", messages=MSG)
    err = exc.value.body
    assert err["code"] == "gateway_misconfigured", err
    assert "aws_request_signing" in err["message"], err
    [q] = sim.requests
    assert not q["signature_ok"] and "authorization" not in q["headers"], q
    assert "aws_request_signing" in e.logs()


def test_signer_without_credentials_is_a_loud_gateway_error(sim, start_envoy, tmp_path):
    """Envoy's signer whose chain finds no credentials forwards the request unsigned: the same 500,
    which names the signer's credentials too."""
    e = start_envoy(envoy_signing(), signer=aws_signer(REGION), env=base_env(tmp_path))
    sim.reset()
    with pytest.raises(openai.InternalServerError) as exc:
        client_for(e).chat.completions.create(model="claude", messages=MSG, stream=True)
    err = exc.value.body
    assert err["code"] == "gateway_misconfigured" and "have credentials" in err["message"], err
    [q] = sim.requests
    assert not q["signature_ok"] and "authorization" not in q["headers"], q


def test_instance_profile_imdsv2_in_a_network_namespace():
    if shutil.which("unshare") is None or shutil.which("ip") is None or os.geteuid() != 0:
        pytest.skip("needs root with unshare and ip (iproute2) for a network namespace")
    r = subprocess.run(["unshare", "-n", sys.executable, str(Path(__file__).with_name("imds_netns.py"))],
                       capture_output=True, text=True, timeout=180)
    if r.returncode != 0 and "unshare failed" in r.stderr:
        pytest.skip(f"network namespaces not allowed here: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["content"] == "You said: ping"
    assert result["signature_ok"] == [True] and result["access_keys"] == ["ASIAINSTANCEPROFILE01"], result
    # IMDSv2: a session token first, and no credential request without it.
    assert result["token_puts"] >= 1 and result["creds_gets"] >= 1 and result["unauthorised_gets"] == 0, result


def test_risky_combination_is_refused_at_load(sim, start_envoy, tmp_path):
    """`signing: envoy` + `unknown_paths: passthrough` would let the signer sign anything: the
    configuration is refused and every request, even to Bedrock's own paths, is answered locally."""
    e = start_envoy(envoy_signing(unknown_paths="passthrough"), signer=aws_signer(REGION),
                    env={**base_env(tmp_path), "AWS_ACCESS_KEY_ID": ENV_KEY[0], "AWS_SECRET_ACCESS_KEY": ENV_KEY[1]})
    sim.reset()
    status, err = raw_post(e, "/model/" + CLAUDE + "/invoke", {"prompt": "x"})
    assert status == 500 and err["error"]["code"] == "gateway_misconfigured", err
    assert "unknown_paths" in err["error"]["message"]
    status, err = raw_post(e, "/v1/chat/completions", {"model": "claude", "messages": MSG})
    assert status == 500 and err["error"]["code"] == "gateway_misconfigured", err
    assert sim.requests == []
    assert "unknown_paths" in e.logs()
