"""In real Envoy: envoy/failover.yaml as shipped (ports, module path and the two
simulated regions patched in): the filter runs as an upstream filter of the `bedrock` cluster,
whose priorities are two regions. A throttled request (429 ThrottlingException, 503
ServiceUnavailableException) is retried by Envoy on the other region, translated and signed again
for it (the second simulator checks a us-west-2 signature), with that region's model id; the
client sees only the answer. A stream throttled after its first bytes is not retried."""

import json
import time

import openai
import pytest

import shipped
from conftest import AKID, SECRET, TOKEN, SimControl, filter_config
from sim import event, frame, start_sim

EAST_MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
WEST_MODEL = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
HI = [{"role": "user", "content": "hello there"}]
ENV = {"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}


@pytest.fixture(scope="module")
def regions():
    sims = []
    for region in ("us-east-1", "us-west-2"):
        server, port, state = start_sim(region=region, access_key=AKID, secret_key=SECRET, session_token=TOKEN)
        sims.append((server, SimControl(port, state)))
    yield [s for _, s in sims]
    for server, _ in sims:
        server.shutdown()


@pytest.fixture(scope="module")
def envoy(regions):
    east, west = regions
    cfg = shipped.load("failover.yaml")
    (cluster,) = cfg["static_resources"]["clusters"]
    cluster["type"] = "STATIC"
    cluster.pop("dns_lookup_family")
    cluster.pop("transport_socket_matches")  # plain HTTP to the simulators
    for group, sim in zip(cluster["load_assignment"]["endpoints"], (east, west)):
        for ep in group["lb_endpoints"]:
            ep["endpoint"]["address"]["socket_address"].update(address="127.0.0.1", port_value=sim.port)
    e = shipped.start(cfg, "failover", env=ENV)
    yield e
    e.stop()


@pytest.fixture
def client(envoy, regions):
    for s in regions:
        s.reset()
    return openai.OpenAI(base_url=envoy.base_url, api_key="sk-client", max_retries=0, timeout=30)


def access_log(envoy):
    return [json.loads(line) for line in envoy.logs().splitlines() if line.startswith("{")]


@pytest.mark.parametrize("status,kind", [(429, "ThrottlingException"), (503, "ServiceUnavailableException")])
@pytest.mark.parametrize("stream", [True, False])
def test_a_throttled_request_completes_from_the_other_region(client, regions, envoy, status, kind, stream):
    completes_from_the_other_region(client, *regions, status, kind, stream)


def throttle(sim, status=429, kind="ThrottlingException"):
    sim.scenario(EAST_MODEL, status=status, body={"message": "Too many requests, please wait before trying again."},
                 headers={"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"})


def completes_from_the_other_region(client, east, west, status, kind, stream):
    """us-east-1 throttles: the client's answer comes from us-west-2, translated and signed for it."""
    throttle(east, status, kind)
    out = client.chat.completions.create(model="claude", messages=HI, stream=stream)
    text = "".join(c.choices[0].delta.content or "" for c in out if c.choices) if stream else out.choices[0].message.content
    assert text == "You said: hello there"
    (tried,) = east.requests
    (served,) = west.requests
    assert tried["model_id"] == EAST_MODEL and tried["signature_ok"]
    assert served["model_id"] == WEST_MODEL, "the second region's profile maps the model"
    assert served["signature_ok"], "signed again, for us-west-2 (the simulator verifies with botocore)"
    assert "/us-west-2/bedrock/aws4_request" in served["headers"]["authorization"]
    assert "/us-east-1/bedrock/aws4_request" in tried["headers"]["authorization"]
    assert json.loads(served["body"])["messages"][0]["content"][0]["text"] == "hello there"


def test_no_throttle_no_retry(client, regions, envoy):
    east, west = regions
    out = client.chat.completions.create(model="claude", messages=HI)
    assert out.choices[0].message.content == "You said: hello there"
    assert len(east.requests) == 1 and not west.requests
    # As an upstream filter it keeps the client's path for a retry (unsigned, ignored by AWS).
    assert east.requests[0]["headers"].get("x-bedrock-bridge-path") == "/v1/chat/completions"


def test_in_the_listener_no_retry_header_is_added(start_envoy, sim):
    sim.reset()
    e = start_envoy(filter_config())
    c = openai.OpenAI(base_url=e.base_url, api_key="sk-client", max_retries=0, timeout=30)
    assert c.chat.completions.create(model="claude", messages=HI).choices[0].message.content
    (r,) = sim.requests
    assert "x-bedrock-bridge-path" not in r["headers"], r["headers"]


def test_a_stream_throttled_mid_way_is_not_retried(client, regions):
    east, west = regions
    frames = [event("messageStart", {"role": "assistant"}),
              event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Partial "}}),
              frame({":message-type": "exception", ":exception-type": "throttlingException",
                     ":content-type": "application/json"}, b'{"message":"Too many tokens, please wait."}')]
    east.scenario(EAST_MODEL, raw_hex=b"".join(frames).hex())
    out = client.chat.completions.create(model="claude", messages=HI, stream=True)
    got = []
    with pytest.raises(openai.APIError) as e:
        for c in out:
            got.extend(ch.delta.content or "" for ch in c.choices)
    assert "".join(got) == "Partial "
    assert "Too many tokens" in str(e.value)
    assert len(east.requests) == 1
    assert not west.requests, "after the 200 went to the client, Envoy cannot retry"


def test_both_regions_throttled_the_client_gets_the_last_429(client, regions):
    east, west = regions
    for s, model in ((east, EAST_MODEL), (west, WEST_MODEL)):
        s.scenario(model, status=429, body={"message": "Too many requests"},
                   headers={"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/"})
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="claude", messages=HI)
    assert e.value.response.headers.get("retry-after")
    assert e.value.body["type"] == "rate_limit_error"
    assert len(east.requests) == 1 and len(west.requests) == 1


def test_the_access_log_has_each_requests_tries_and_its_last_tries_usage(envoy):
    """Runs last: one line per request above (Envoy flushes its log file every 10 s by default).
    As an upstream filter, the filter's usage is still the request's FILTER_STATE, last try's."""
    deadline = time.time() + 30
    while len(access_log(envoy)) < 7 and time.time() < deadline:
        time.sleep(0.5)
    got = [(l["attempts"], l["status"], l["profile"], l["total_tokens"]) for l in access_log(envoy)]
    # The lines are compared as a multiset: each is written when its stream is torn down. The
    # mid-stream throttle's line once lacked its tokens (the client closed on the error event before
    # Envoy handed the filter the end of the body): the filter now ends a request with the chunk
    # that completes its output.
    want = [(2, 200, "us-west-2", "16")] * 4 + [(1, 200, "us-east-1", "16"), (1, 200, "us-east-1", "0"),
                                                (2, 429, "us-west-2", "0")]
    assert sorted(got, key=repr) == sorted(want, key=repr), got
    # Metrics count each try: 7 requests, 4 + 1 of them tried twice; rate_limit_error: the two 429
    # first tries, the mid-stream throttle and both tries of the last request (the 503s are server_error).
    # Envoy 1.38 names upstream filters' metrics cluster.<name>.wasmcustom.<metric>; 1.40 wasmcustom.<metric>.
    stats = {k.split("wasmcustom.", 1)[-1]: v for k, v in envoy.stats("reasoning").items()}
    tries = sum(v for k, v in stats.items() if k.startswith("bedrock_reasoning_requests_total"))
    throttled = sum(v for k, v in stats.items() if k.startswith("bedrock_reasoning_errors_total") and "rate_limit" in k)
    assert (tries, throttled) == (12, 5), {k: v for k, v in stats.items() if v}
