"""In real Envoy: `GET /healthz/bedrock` answered by the filter from cached
CountTokens probes sent by the root context's timer (`dispatch_http_call` to the Bedrock cluster),
signed per profile. The simulator refuses the credentials (the access key removed from its
account), then accepts them again: the endpoint turns 503 naming the model, profile and Bedrock's
reason, then 200, without a restart; probes from clients never reach Bedrock."""

import json
import time
import urllib.error
import urllib.request

from conftest import AKID, CLAUDE, REGION, SECRET, TOKEN
from harness import Envoy
from sim import start_sim

EU_KEY, EU_SECRET, EU_REGION = "AKIDEUROPE", "eu-secret-key", "eu-west-1"


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.load(r), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), dict(e.headers)


def wait_for(url, status, timeout=15):
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        last = get(url)
        if last[0] == status:
            return last
        time.sleep(0.2)
    raise AssertionError(f"health never answered {status}: {last}")


def count_tokens_calls(sim):
    with sim.lock:
        return [r for r in sim.requests if r["path"].endswith("/count-tokens")]


def test_health_follows_bedrock_access_without_a_restart():
    server, port, sim = start_sim(region=REGION, access_key=AKID, secret_key=SECRET, session_token=TOKEN)
    sim.add_key(EU_KEY, EU_SECRET, region=EU_REGION)
    cfg = {
        "region": REGION,
        "credentials": {"access_key_id": AKID, "secret_access_key": SECRET, "session_token": TOKEN},
        "models": {"claude": CLAUDE},
        "profiles": {"eu": {"region": EU_REGION, "credentials": {"access_key_id": EU_KEY, "secret_access_key": EU_SECRET},
                            "models": {"claude": "eu.anthropic.claude-sonnet-4-20250514-v1:0"}}},
        "health": {"cluster": "bedrock", "interval_seconds": 1, "timeout_ms": 2000},
    }
    envoy = Envoy(cfg, upstream=("127.0.0.1", port), name="health")
    url = f"http://127.0.0.1:{envoy.port}/healthz/bedrock"
    try:
        status, body, headers = wait_for(url, 200)
        assert body["status"] == "healthy"
        assert [(c["profile"], c["model"], c["model_id"], c["region"]) for c in body["checks"]] == [
            ("default", "claude", "anthropic.claude-sonnet-4-20250514-v1:0", REGION),
            ("eu", "claude", "anthropic.claude-sonnet-4-20250514-v1:0", EU_REGION)]
        assert headers.get("cache-control") == "no-store"
        calls = count_tokens_calls(sim)
        assert calls and all(c["signature_ok"] for c in calls), calls
        assert {c["access_key"] for c in calls} == {AKID, EU_KEY}, "each profile signs with its own identity"

        # Probes cost nothing: 20 readiness probes in a row send no call to Bedrock.
        time.sleep(0.5)
        with sim.lock:
            before = len(sim.requests)
        for _ in range(20):
            assert get(url)[0] == 200
        with sim.lock:
            assert len(sim.requests) - before <= 4, "only the timer's own rounds (1 s apart) reach Bedrock"

        # The account forgets the default profile's key: that profile turns unhealthy, the other stays.
        with sim.lock:
            creds = sim.keys.pop(AKID)
        status, body, _ = wait_for(url, 503)
        default, eu = body["checks"]
        assert body["status"] == "unhealthy"
        assert (default["healthy"], default["status"]) == (False, 403)
        assert "UnrecognizedClientException" in default["reason"] and "security token" in default["reason"], default
        assert eu["healthy"] is True, eu

        with sim.lock:
            sim.keys[AKID] = creds
        status, body, _ = wait_for(url, 200)
        assert all(c["healthy"] for c in body["checks"])

        # Only GET; the rest of the gateway is unchanged.
        req = urllib.request.Request(url, method="POST", data=b"{}")
        try:
            urllib.request.urlopen(req, timeout=5)
            raise AssertionError("POST was accepted")
        except urllib.error.HTTPError as e:
            assert e.code == 405
        assert envoy.alive()
        assert "panicked" not in envoy.logs()
    finally:
        envoy.stop()
        server.shutdown()


def test_an_unknown_cluster_is_reported_not_crashed():
    server, port, _ = start_sim(region=REGION, access_key=AKID, secret_key=SECRET, session_token=TOKEN)
    cfg = {"region": REGION, "credentials": {"access_key_id": AKID, "secret_access_key": SECRET, "session_token": TOKEN},
           "models": {"claude": CLAUDE}, "health": {"cluster": "no-such-cluster", "interval_seconds": 1}}
    envoy = Envoy(cfg, upstream=("127.0.0.1", port), name="health-nocluster")
    try:
        status, body, _ = wait_for(f"http://127.0.0.1:{envoy.port}/healthz/bedrock", 503)
        deadline = time.time() + 10
        while body["checks"][0]["reason"] == "not probed yet" and time.time() < deadline:
            time.sleep(0.3)
            status, body, _ = get(f"http://127.0.0.1:{envoy.port}/healthz/bedrock")
        assert "no-such-cluster" in body["checks"][0]["reason"], body
        assert envoy.alive()
    finally:
        envoy.stop()
        server.shutdown()
