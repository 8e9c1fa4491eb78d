"""Failure, load and security tests in real Envoy (2 workers) + bedrock-bridge.

A panic in the filter kills the wasm VM of a worker and every later request on it fails, so after
each scenario the tests check that Envoy still answers correctly on *both* workers (per-worker
listener stats), that it is alive, and that its log has no wasm failure line (`load.assert_serving`).

    .venv/bin/python -m pytest -q tests/e2e/test_resilience.py -s     # -s prints the numbers
"""

import copy
import http.client
import json
import random
import re
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

import harness
import sim as sim_module
from conftest import CLAUDE, SECRET, TOKEN, filter_config, filter_envoy, sdk_error
from load import (FaultyUpstream, assert_openai_error, assert_serving, assert_sse_error_then_done, chat,
                  request, rss_kb, sse_events, stream_text, wait_idle, worker_connections)
from sim import event, frame, generated_stream

CLIENT_KEY = "sk-client-secret-never-forwarded"


def frames_of(text: str) -> bytes:
    """The simulator's generated ConverseStream answer to `text`, as one byte string."""
    return b"".join(generated_stream({"messages": [{"role": "user", "content": [{"text": text}]}]}))


def layout(data: bytes) -> list:
    """(start, total_length, event type) of each eventstream frame in `data`."""
    out, pos = [], 0
    while pos + 12 <= len(data):
        total, hlen = struct.unpack(">II", data[pos:pos + 8])
        kind = re.search(rb":event-type\x07..(\w+)", data[pos:pos + 12 + hlen], re.S)
        out.append((pos, total, kind.group(1).decode() if kind else None))
        pos += total
    return out


def expected_answer(text: str):
    return "You said: " + text, f"The user wrote {len(text)} characters. I will repeat them back."


@pytest.fixture(scope="module", autouse=True)
def _sim_tuning():
    """Two runtime tweaks of the simulator for this module (sim.py is not edited):
    - TCP_NODELAY on its sockets: without it every streamed answer waits ~40 ms for Nagle +
      delayed ACK (22 sequential streams/s instead of ~500), which would only measure Python;
    - no traceback on stderr when Envoy resets a connection the simulator is still writing to
      (the expected outcome of the disconnect and timeout scenarios)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(sim_module.Handler, "disable_nagle_algorithm", True, raising=False)
    original = socketserver.BaseServer.handle_error

    def handle_error(self, request_, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        original(self, request_, client_address)

    mp.setattr(socketserver.BaseServer, "handle_error", handle_error)
    yield
    mp.undo()


@pytest.fixture(scope="module")
def faulty():
    upstream = FaultyUpstream()
    yield upstream
    upstream.close()


@pytest.fixture(scope="module")
def faulty_envoy(faulty):
    yield from filter_envoy(faulty.port, "faulty")


def healthy(envoy):
    """Health checks inside an xfail test: a failure here is a real failure, not the expected one."""
    try:
        assert wait_idle(envoy) == (0, 0)
        return assert_serving(envoy)
    except AssertionError as exc:
        pytest.fail(f"Envoy is not healthy after the scenario: {exc}")


def sdk(envoy, timeout=20):
    return openai.OpenAI(base_url=envoy.base_url, api_key=CLIENT_KEY, max_retries=0, timeout=timeout)


# --- 1. upstream resets ------------------------------------------------------------------------

RESET_TEXT = "please reset this stream somewhere in the middle"


def reset_points():
    data = frames_of(RESET_TEXT)
    fr = layout(data)
    first_text = next(i for i, f in enumerate(fr) if i > 0 and f[2] == "contentBlockDelta" and fr[i - 1][2] == "contentBlockStop")
    meta = next(f for f in fr if f[2] == "metadata")
    return data, {
        "after the headers, no body": 0,
        "inside the first prelude": 5,
        "inside the first prelude crc": 10,
        "inside the first frame's headers": 12 + 20,
        "inside the 3rd frame's payload": fr[2][0] + fr[2][1] - 20,
        "after 3 complete frames": fr[3][0],
        "inside the prelude of the first text delta": fr[first_text][0] + 6,
        "inside a text delta payload": fr[first_text + 2][0] + fr[first_text + 2][1] - 9,
        "after messageStop, before metadata": meta[0],
        "after every frame, before the last chunk": len(data),
    }


def test_upstream_reset_mid_stream_is_a_clean_client_error(faulty, faulty_envoy):
    data, points = reset_points()
    content_all, reasoning_all = expected_answer(RESET_TEXT)
    cases = []
    for i, (name, cut) in enumerate(points.items()):
        for rst in (True, False):
            model = f"reset-{i}-{'rst' if rst else 'fin'}"
            faulty.plans[model] = {"data": data, "reset_after": cut, "rst": rst, "piece": [97, 512, 7][i % 3]}
            cases.append((name, cut, rst, model))

    def run(case):
        return request(faulty_envoy.port, body=chat("x", stream=True, model=case[3]), timeout=15)

    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, cases))
    print(f"\n{len(cases)} upstream resets in {time.monotonic() - t0:.1f} s")
    for (name, cut, rst, model), r in zip(cases, results):
        what = f"{name} (byte {cut}, {'RST' if rst else 'FIN'})"
        # The 200 and the SSE headers were sent before the reset; the client sees the body
        # cut short (no last chunk): httpx / the SDK raise on it.
        assert r.status == 200 and r.headers["content-type"].startswith("text/event-stream"), (what, r)
        assert r.error is not None, f"{what}: the client cannot tell the stream broke: {r}"
        assert r.elapsed < 5, (what, r.elapsed)
        if r.body:
            content, reasoning, finish, ids, error, events = stream_text(r.body)  # whole events only
            assert error is None and len(ids) == 1, (what, events[-3:])
            assert content_all.startswith(content) and reasoning_all.startswith(reasoning), (what, content, reasoning)
            assert ("[DONE]" in events) == (cut >= layout(data)[-1][0] + layout(data)[-1][1]), (what, events[-2:])
        print(f"  {what:70s} -> {len(r.body):5d} SSE bytes, then {type(r.error).__name__}")

    # The official SDK raises (no hang, no silent truncation).
    for model in ("reset-4-rst", "reset-7-fin", "reset-0-rst"):
        with pytest.raises(openai.APIError) as e:
            list(sdk(faulty_envoy).chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}], stream=True))
        print(f"  SDK on {model}: {type(e.value).__name__}: {e.value}")

    # A reset before any response header: Envoy's 503, rewritten by the filter as an OpenAI error.
    faulty.plans["reset-before-headers"] = {"before_headers": True}
    for stream in (False, True):
        r = request(faulty_envoy.port, body=chat("x", stream=stream, model="reset-before-headers"))
        err = assert_openai_error(r, 503, "server_error")
        assert "reset" in err["message"], err
        sdk_error(sdk(faulty_envoy), openai.InternalServerError, "reset-before-headers", stream)

    assert wait_idle(faulty_envoy) == (0, 0)
    print("  still serving, connections per worker:", assert_serving(faulty_envoy))


BUFFERED_JSON = json.dumps({"output": {"message": {"role": "assistant", "content": [{"text": "hello " * 300}]}},
                            "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 300, "totalTokens": 301}}).encode()


@pytest.mark.parametrize("cut", ["reset", "route-timeout"])
def test_buffered_response_cut_after_headers_is_an_openai_error(faulty, start_envoy, cut):
    e = start_envoy(filter_config(), upstream=("127.0.0.1", faulty.port), route_timeout="1s")
    if cut == "reset":
        faulty.plans["cut-json"] = {"data": BUFFERED_JSON, "reset_after": 700, "piece": 100,
                                    "content_type": "application/json"}
    else:
        faulty.plans["cut-json"] = {"data": BUFFERED_JSON, "piece": 100, "delay_ms": 300,
                                    "content_type": "application/json"}
    r = request(e.port, body=chat("x", model="cut-json"))
    print(f"\n{cut}: {r.status} {r.headers.get('content-type')} {r.body[:120]!r} after {r.elapsed * 1000:.0f} ms")
    with pytest.raises(openai.APIStatusError):
        sdk(e).chat.completions.create(model="cut-json", messages=[{"role": "user", "content": "x"}])
    healthy(e)
    assert r.status in (502, 503, 504)
    assert_openai_error(r, r.status, "server_error")


# --- 2. upstream stalls ------------------------------------------------------------------------

def test_upstream_stall_past_the_route_timeout(sim, start_envoy):
    sim.reset()
    e = start_envoy(filter_config(), route_timeout="1s")
    data = frames_of("a stalled answer that takes forever to arrive")
    sim.scenario("stall", raw_hex=data.hex(), stall_ms=3000)
    for stream in (False, True):
        r = request(e.port, body=chat("x", stream=stream, model="stall"))
        err = assert_openai_error(r, 504, "server_error")
        assert "timeout" in err["message"], err
        assert 0.9 < r.elapsed < 2.5, r.elapsed
        print(f"\nstall before headers, stream={stream}: {r.status} after {r.elapsed * 1000:.0f} ms: {err}")
        exc = sdk_error(sdk(e), openai.InternalServerError, "stall", stream)
        assert exc.status_code == 504 and exc.body["type"] == "server_error"

    # A stream that stalls in the middle: Envoy's route timeout fires after the 200 went out, so
    # it resets the client stream; the client gets an error in bounded time, not a hang.
    sim.scenario("stall-mid", raw_hex=data.hex(), frame_delay_ms=3000)
    sim.scenario("slow-frames", raw_hex=data.hex(), frame_delay_ms=400)
    for model in ("stall-mid", "slow-frames"):
        r = request(e.port, body=chat("x", stream=True, model=model))
        assert r.status == 200 and r.error is not None, r
        assert r.elapsed < 3.5, r.elapsed
        content, reasoning, finish, ids, error, events = stream_text(r.body)
        assert events and "[DONE]" not in events and not finish, events[-2:]
        print(f"{model}: {len(events)} events then {type(r.error).__name__} after {r.elapsed * 1000:.0f} ms")
        t0 = time.monotonic()
        with pytest.raises(openai.APIError):
            list(sdk(e, timeout=10).chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}], stream=True))
        assert time.monotonic() - t0 < 5
    assert wait_idle(e) == (0, 0)
    print("still serving, connections per worker:", assert_serving(e))


# --- 3. upstream garbage -----------------------------------------------------------------------

def prelude(total, headers_len):
    p = struct.pack(">II", total, headers_len)
    return p + struct.pack(">I", zlib.crc32(p))


def with_crc(msg: bytes) -> bytes:
    return msg + struct.pack(">I", zlib.crc32(msg))


GARBAGE_TEXT = "garbage handling check"
GOOD = frames_of(GARBAGE_TEXT)
GOOD_LAYOUT = layout(GOOD)
FIRST_TEXT = next(f for i, f in enumerate(GOOD_LAYOUT) if i > 0 and f[2] == "contentBlockDelta" and GOOD_LAYOUT[i - 1][2] == "contentBlockStop")
_rnd = random.Random(1337)


def _random_bytes(n):
    b = bytes(_rnd.randrange(256) for _ in range(n))
    return b"\x00" + b[1:] if b[:1] == b"{" else b


START = event("messageStart", {"role": "assistant"})
NESTED = b'{"contentBlockIndex":0,"delta":{"text":' + b"[" * 100000 + b"]" * 100000 + b"}}"

# (id, raw eventstream body, scenario extras, what the client must see)
#   "error": an SSE error event then [DONE]; "complete": the whole answer then [DONE]
STREAM_GARBAGE = [
    ("random-64", _random_bytes(64), {}, "error"),
    ("random-1000-in-1-byte-chunks", _random_bytes(1000), {"chunk_sizes": [1, 2, 3]}, "error"),
    ("random-20000", _random_bytes(20000), {}, "error"),
    ("prelude-claims-4GB", prelude(0xFFFFFFF0, 0) + bytes(100), {}, "error"),
    ("prelude-claims-2MB-then-ends", prelude(2 << 20, 0) + bytes(1000), {}, "error"),
    ("prelude-below-minimum", prelude(8, 0) + bytes(20), {}, "error"),
    ("headers-longer-than-message", prelude(40, 1000) + bytes(28), {}, "error"),
    ("bad-message-crc", START[:-1] + bytes([START[-1] ^ 0xFF]) + GOOD[len(START):], {}, "error"),
    ("unknown-header-type", with_crc(prelude(16 + 8, 8) + b"\x02:x\x63abcd"), {}, "error"),
    ("empty-header-name", with_crc(prelude(16 + 4, 4) + b"\x00\x07\x00\x00"), {}, "error"),
    ("unknown-message-type", START + frame({":message-type": "weird", ":event-type": "x"}, b"{}"), {}, "error"),
    ("non-json-payload", START + frame({":message-type": "event", ":event-type": "contentBlockDelta"}, b"\xff\xfe not json"), {}, "error"),
    ("100k-nested-payload", START + frame({":message-type": "event", ":event-type": "contentBlockDelta"}, NESTED), {}, "error"),
    ("exception-with-binary-payload", START + frame({":message-type": "exception", ":exception-type": "throttlingException"}, b"\x00\xff\x10"), {}, "rate_limit_error"),
    ("truncated-final-frame", GOOD[:-10], {}, "error"),
    ("truncated-inside-a-text-delta", GOOD[:FIRST_TEXT[0] + FIRST_TEXT[1] - 7], {}, "error"),
    ("garbage-before-messageStop", GOOD[:FIRST_TEXT[0] + FIRST_TEXT[1]] + _random_bytes(300), {}, "error"),
    ("html-as-200-stream", b"<html><body>502 Bad Gateway</body></html>", {}, "error"),
    ("empty-200-stream", b"", {}, "error"),
    ("valid-stream-then-garbage", GOOD + b"trailing garbage \xff\x00" * 50, {}, "complete"),
]


@pytest.mark.parametrize("name,data,extra,expect", STREAM_GARBAGE, ids=[c[0] for c in STREAM_GARBAGE])
def test_garbage_eventstream_ends_with_an_sse_error(envoy, sim, name, data, extra, expect):
    sim.reset()
    sim.scenario(name, raw_hex=data.hex(), **extra)
    r = request(envoy.port, body=chat("x", stream=True, model=name))
    content_all, _ = expected_answer(GARBAGE_TEXT)
    if expect == "complete":
        content, _, finish, _, error, events = stream_text(r.body)
        assert r.status == 200 and r.error is None and error is None, r
        assert content == content_all and finish == ["stop"] and events[-1] == "[DONE]" and events.count("[DONE]") == 1
    else:
        err, events = assert_sse_error_then_done(r, "server_error" if expect == "error" else expect)
        content = stream_text(r.body)[0]
        assert content_all.startswith(content), content
        print(f"\n{name}: {len(events)} events, {err['type']}/{err['code']}: {err['message'][:110]}")
        with pytest.raises(openai.APIError):
            list(sdk(envoy).chat.completions.create(model=name, messages=[{"role": "user", "content": "x"}], stream=True))
    assert_serving(envoy)


NESTED_JSON = (b'{"output":{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"t","name":"f","input":'
               + b"[" * 100000 + b"]" * 100000 + b'}}]}},"stopReason":"tool_use"}')
BIG_TEXT = ("upstream says no " * 7000)
# (id, scenario, stream, expected status, expected type)
HTTP_GARBAGE = [
    ("json-200-on-a-stream", {"body": {"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}}, "stopReason": "end_turn"}}, True, 502, "server_error"),
    ("not-json-200", {"body": "{not json at all"}, False, 502, "server_error"),
    ("wrong-shape-200", {"body": {"output": 5, "stopReason": ["x"]}}, False, 502, "server_error"),
    ("100k-nested-200", {"raw_hex": NESTED_JSON.hex()}, False, 502, "server_error"),
    ("html-500", {"status": 500, "body": "<html><body><h1>500 Internal Server Error</h1></body></html>"}, False, 500, "server_error"),
    ("html-500-stream", {"status": 500, "body": "<html><body><h1>500 Internal Server Error</h1></body></html>"}, True, 500, "server_error"),
    ("empty-502", {"status": 502, "body": ""}, False, 502, "server_error"),
    ("empty-502-stream", {"status": 502, "body": ""}, True, 502, "server_error"),
    ("binary-503", {"status": 503, "raw_hex": (b"\xff\xfe\x00\x01binary" * 400).hex()}, False, 503, "server_error"),
    ("binary-503-stream", {"status": 503, "raw_hex": (b"\xff\xfe\x00\x01binary" * 400).hex()}, True, 503, "server_error"),
    ("text-119KB-504", {"status": 504, "body": BIG_TEXT}, False, 504, "server_error"),
    ("text-119KB-504-stream", {"status": 504, "body": BIG_TEXT}, True, 504, "server_error"),
    ("unknown-error-type-500", {"status": 500, "body": "oops", "headers": {"x-amzn-ErrorType": "TotallyNewException:http://x/"}}, True, 500, "server_error"),
    ("html-400", {"status": 400, "body": "<html>bad</html>"}, False, 400, "invalid_request_error"),
    ("text-403-stream", {"status": 403, "body": "Forbidden"}, True, 403, "permission_error"),
    ("empty-429", {"status": 429, "body": ""}, False, 429, "rate_limit_error"),
    ("teapot-418", {"status": 418, "body": "I'm a teapot"}, True, 502, "server_error"),
]


@pytest.mark.parametrize("name,scenario,stream,status,kind", HTTP_GARBAGE, ids=[c[0] for c in HTTP_GARBAGE])
def test_garbage_http_answers_become_openai_errors(envoy, sim, name, scenario, stream, status, kind):
    sim.reset()
    sim.scenario(name, **scenario)
    r = request(envoy.port, body=chat("x", stream=stream, model=name))
    err = assert_openai_error(r, status, kind)
    assert len(err["message"]) < 2000, len(err["message"])
    print(f"\n{name}: {r.status} {err['type']}/{err['code']}: {err['message'][:100]!r}")
    e = sdk_error(sdk(envoy), openai.APIStatusError, name, stream)
    assert e.status_code == status
    assert_serving(envoy)


# --- 4. clients that go away -------------------------------------------------------------------

def raw_disconnect(port, body: dict, read_events: int, mode: str, timeout=10.0):
    """Send a request on a raw socket, read until `read_events` SSE events arrived (0: do not
    wait for anything), then go away: "close" (FIN), "rst" (RST) or "half" (shut the write side
    first, read a little more, then close)."""
    payload = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n"
              b"authorization: Bearer %s\r\ncontent-length: %d\r\n\r\n%s" % (CLIENT_KEY.encode(), len(payload), payload))
    got = b""
    deadline = time.monotonic() + timeout
    if read_events == 0:
        time.sleep(0.15)
    while read_events and got.count(b"data: ") < read_events and time.monotonic() < deadline:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    if mode == "half":
        s.shutdown(socket.SHUT_WR)
        s.settimeout(0.2)
        try:
            s.recv(4096)
        except OSError:
            pass
    if mode == "rst":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return got


def test_client_disconnects_mid_stream(envoy, sim):
    sim.reset()
    assert wait_idle(envoy) == (0, 0)
    text = " ".join(f"word{i}" for i in range(60))
    sim.scenario("slow-stream", raw_hex=frames_of(text).hex(), frame_delay_ms=40)     # ~3.2 s if read to the end
    sim.scenario("slow-start", raw_hex=frames_of(text).hex(), stall_ms=1500)
    before = envoy.stats("downstream_cx_destroy")
    rnd = random.Random(4)
    jobs = []
    for i in range(50):   # mid-stream: after 1-6 SSE events
        jobs.append(("slow-stream", True, rnd.randint(1, 6), ("close", "rst", "half")[i % 3]))
    for i in range(10):   # before any response header, streaming and not
        jobs.append(("slow-start", i % 2 == 0, 0, ("close", "rst")[i % 2]))
    rnd.shuffle(jobs)
    t0 = time.monotonic()
    got = []
    with ThreadPoolExecutor(10) as pool:
        got = list(pool.map(lambda j: raw_disconnect(envoy.port, chat("bye", stream=j[1], model=j[0]), j[2], j[3]), jobs))
    took = time.monotonic() - t0
    for job, data in zip(jobs, got):
        if job[2]:
            assert data.startswith(b"HTTP/1.1 200") and data.count(b"data: ") >= job[2], (job, data[:300])
    active = wait_idle(envoy)
    after = envoy.stats("downstream_cx_destroy")
    gone = after["http.openai.downstream_cx_destroy_active_rq"] - before["http.openai.downstream_cx_destroy_active_rq"]
    print(f"\n{len(jobs)} clients went away in {took:.1f} s; Envoy saw {gone} connections closed with an active request; "
          f"active requests now (downstream, upstream) = {active}")
    assert active == (0, 0), "requests leaked after client disconnects"
    assert gone >= 50, after
    print("still serving, connections per worker:", assert_serving(envoy))
    assert wait_idle(envoy) == (0, 0)


# --- 5. malformed requests ---------------------------------------------------------------------

VALID_BASE = {
    "model": "claude", "stream": False,
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "look"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
        {"role": "assistant", "content": "calling", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "user", "content": "thanks"},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "weather",
                                                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
    "tool_choice": "auto", "response_format": {"type": "text"}, "stop": ["END"], "temperature": 0.5, "top_p": 0.9,
    "max_tokens": 100, "user": "u1", "metadata": {"k": "v"}, "n": 1,
}
DEEP = 100000
IMG = "data:image/png;base64,iVBORw0KGgo="
# (path inside VALID_BASE, values that must each be refused with 400)
WRONG = [
    (("model",), [7, 1.5, True, None, [], {}, ["claude"], "", "   ", "x" * 3000, "a\nb", "a\u0000b"]),
    (("stream",), ["yes", 1, 0, [], {}]),
    (("messages",), ["hi", 5, True, {}, [], None, {"role": "user", "content": "x"}]),
    (("messages", 4), ["hi", 5, None, [], ["x"], True]),
    (("messages", 4, "role"), [5, None, True, [], {}, "wizard", "", "USER", "function"]),
    (("messages", 4, "content"), [5, 1.5, True, {}, None, [5], ["x"], [None], [[]], [{}], [{"type": 5}], [{"type": "text"}],
                                  [{"type": "text", "text": 5}], [{"type": "text", "text": None}], [{"type": "nope", "text": "x"}],
                                  [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}], [{"type": "image_url"}],
                                  [{"type": "image_url", "image_url": 5}], [{"type": "image_url", "image_url": {"url": 5}}],
                                  [{"type": "file", "file": 5}], [{"type": "file", "file": {"file_id": "file-1"}}],
                                  [{"type": "file", "file": {"file_data": 5}}],
                                  [{"type": "file", "file": {"file_data": "data:application/x-evil;base64,AAAA"}}]]),
    (("messages", 1, "content", 1, "image_url", "url"), [5, None, "https://example.com/cat.png", "http://127.0.0.1/x.png", "ftp://x",
                                                         "data:", "data:image/png;base64", "data:image/png,abc", "data:image/bmp;base64,AAAA",
                                                         "data:image/png;base64,@@@@", "data:image/png;base64,", "nope"]),
    (("messages", 1, "content", 0, "text"), [5, None, [], {}, True]),
    (("messages", 0, "content"), [5, True, {}, [5], [{"type": "image_url", "image_url": {"url": IMG}}], [{"type": "text", "text": 5}]]),
    (("messages", 0, "role"), ["System", 0]),
    (("messages", 2, "content"), [5, {}, [5], [{"type": "image_url", "image_url": {"url": IMG}}]]),
    (("messages", 2, "tool_calls"), ["x", 5, {}, True, [5], ["x"], [{}], [{"id": 5, "function": {"name": "f"}}],
                                     [{"id": "c", "function": 5}], [{"id": "c", "function": {"name": 5}}],
                                     [{"id": "c", "function": {"name": "f", "arguments": 5}}]]),
    # Arguments that are not JSON at all ("{", "not json", an unclosed nest) are history our own
    # max-tokens-cut streams produce: they are repaired to `{}`, not refused.
    # Nesting deeper than the parser's limit counts as not JSON, so it is repaired too.
    (("messages", 2, "tool_calls", 0, "function", "arguments"), [5, [], {}, True, "[]", "1", "null", "\"str\""]),
    (("messages", 2, "tool_calls", 0, "id"), [5, None, []]),
    (("messages", 2, "thinking_blocks"), [5, "x", {}, [5], [{"type": "nope"}], [{"type": "thinking", "thinking": 5}],
                                          [{"type": "redacted_thinking", "data": 5}]]),
    (("messages", 3, "tool_call_id"), [5, None, [], {}]),
    (("messages", 3, "content"), [5, {}, [5], [{"type": "image_url", "image_url": {"url": IMG}}]]),
    (("tools",), ["x", 5, {}, True, [5], ["x"], [{}], [{"type": "retrieval"}], [{"type": "function"}], [{"type": "function", "function": 5}],
                  [{"type": "function", "function": {}}], [{"type": "function", "function": {"name": 5}}],
                  [{"type": "function", "function": {"name": ""}}], [{"type": "function", "function": {"name": "bad name!"}}],
                  [{"type": "function", "function": {"name": "x" * 65}}], [{"type": "function", "function": {"name": "f", "description": 5}}],
                  [{"type": "function", "function": {"name": "get_weather"}}] * 300]),
    (("tools", 0, "function", "parameters"), ["x", 5, [], True]),
    (("tool_choice",), [5, True, [], "sometimes", "", {}, {"type": "function"}, {"type": "function", "function": 5},
                        {"type": "function", "function": {"name": 5}}, {"type": "function", "function": {"name": "not_a_tool"}}]),
    (("response_format",), ["json", 5, True, [], {}, {"type": 5}, {"type": "xml"}, {"type": "json_schema"},
                            {"type": "json_schema", "json_schema": 5}, {"type": "json_schema", "json_schema": {"name": 5}},
                            {"type": "json_schema", "json_schema": {"name": "bad name"}},
                            {"type": "json_schema", "json_schema": {"name": "s", "schema": "x"}},
                            {"type": "json_schema", "json_schema": {"name": "get_weather"}}]),
    (("stream_options",), [5, "x", [], True, {"include_usage": "yes"}, {"include_usage": 1}]),
    (("stop",), [5, True, {}, [1], [None], [["a"]], [{}]]),
    (("temperature",), ["hot", True, [], {}, -0.1, 2.01, 1e308, -1e308, 3]),
    (("top_p",), ["x", -0.5, 1.5, 1e300, True]),
    (("max_tokens",), [0, -1, 1.5, "10", True, [], {}, 1e30, -(2 ** 63), 1e19]),
    (("max_completion_tokens",), [0, -5, "x", 2.5]),
    (("n",), [2, 0, "1", 1.5, -1]),
    (("logprobs",), [True, "x", 1]), (("top_logprobs",), [1, "x"]), (("presence_penalty",), [0.5, "x"]),
    (("frequency_penalty",), [-1]), (("logit_bias",), [{"1": 5}, "x"]), (("seed",), [1, "x"]), (("audio",), [{}]),
    (("prediction",), [{}]), (("modalities",), [["audio"], "text"]), (("functions",), [[]]), (("function_call",), ["auto"]),
    (("user",), [5, [], {}, True]),
    (("metadata",), [5, "x", [], {"k": 5}, {"k": None}, {"k": {}}]),
    (("reasoning_effort",), ["extreme", 5, "", "HIGH", []]),
    (("thinking",), ["x", 5, [], True]),
    (("store",), [True, "x", 5]),
    # flex and priority are Converse service tiers.
    (("service_tier",), [5, "turbo"]),
    (("parallel_tool_calls",), ["x", 5, []]),
    (("prompt",), ["x"]), (("best_of",), [2]), (("echo",), [True]), (("suffix",), ["x"]), (("frobnicate",), [1]),
]
DELETE = [("model",), ("messages",), ("messages", 4, "role"), ("messages", 4, "content"), ("messages", 3, "tool_call_id"),
          ("messages", 2, "tool_calls", 0, "function"), ("messages", 2, "tool_calls", 0, "function", "name"),
          ("messages", 2, "tool_calls", 0, "id"), ("tools", 0, "function"), ("tools", 0, "function", "name"),
          ("tools", 0, "type"), ("messages", 1, "content", 1, "image_url")]
BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf5\x80\x80\x80", b"\xe2\x82", b"\x80"]


def _set(doc, path, value, delete=False):
    doc = copy.deepcopy(doc)
    node = doc
    for k in path[:-1]:
        node = node[k]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def _python_rejects(body: bytes) -> bool:
    def no_constants(c):
        raise ValueError(c)
    try:
        json.loads(body.decode("utf-8"), parse_constant=no_constants)
        return False
    except ValueError:
        return True


def malformed_requests(seed=20261124):
    """(category, method, path, body, expected status), generated with a seeded RNG: ≥ 500."""
    rnd = random.Random(seed)
    cases = []
    base = json.dumps(VALID_BASE).encode()

    def add(cat, body, status=400, method="POST", path="/v1/chat/completions"):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        cases.append((cat, method, path, body, status))

    # Invalid JSON.
    for n in sorted(rnd.sample(range(1, len(base)), 70)):
        add("invalid json: truncated", base[:n])
    inserted = 0
    while inserted < 40:
        pos = rnd.randrange(1, len(base))
        mutated = base[:pos] + rnd.choice([b"{", b"}", b"[", b"]", b":", b",", b'"', b"\\", b"\x01", b"'"]) + base[pos:]
        if _python_rejects(mutated):
            add("invalid json: byte inserted", mutated)
            inserted += 1
    for b in [b"{not json", b"{'model': 'claude'}", b'{"model":"claude",}', b'{"model":"claude" "messages":[]}', b"{", b"}", b"[",
              b" ", b"\n", b"null", b"true", b"42", b'"str"', b"[]", b"[{}]", b'{"model":NaN}', b'{"temperature":Infinity}',
              b'{"temperature":-Infinity}', base + b" x", base + b"{}", base + base, b"\xef\xbb\xbf" + base, b"// c\n" + base,
              b'{"a":1e400}', b'{"model":"claude","max_tokens":' + b"9" * 5000 + b"}", b'{"model":"claude","temperature":1e99999}',
              b"0x10", b'{"temperature":01}', b'{"model":"cl\\aude"}', b'{"model":"\\u12"}', b'{"model":"claude\tx"}',
              b'{"model":"claude\x00"}', json.dumps(VALID_BASE).encode("utf-16"), json.dumps(VALID_BASE).encode("utf-32"),
              base.replace(b'"messages"', b"messages", 1), base.replace(b"0.5", b"0.5.1", 1), base.replace(b"100", b"1_00", 1)]:
        add("invalid json: by hand", b)
    # Deep nesting (serde_json's recursion limit, never the wasm stack).
    for b in [b"[" * DEEP + b"]" * DEEP, b"[" * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP, b'[{"a":' * (DEEP // 2),
              b'{"model":"claude","messages":' + b"[" * DEEP + b"]" * DEEP + b"}",
              b'{"model":"claude","messages":[{"role":"user","content":"x"}],"thinking":' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}",
              b'{"model":"claude","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":'
              + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}}]}",
              b'{"model":"claude","messages":[{"role":"user","content":"x"}],"thinking":' + b'{"a":' * 130 + b"1" + b"}" * 130 + b"}",
              b'{"model":"claude","messages":[{"role":"user","content":"x"}],"metadata":' + b"[" * 1000 + b"]" * 1000 + b"}"]:
        add("deeply nested", b)
    # Invalid UTF-8 and lone surrogates, in a value, in a key, outside strings.
    for bad in BAD_UTF8:
        add("invalid utf-8", base.replace(b'"thanks"', b'"than' + bad + b'ks"', 1))
        add("invalid utf-8", base.replace(b'"model"', b'"mo' + bad + b'del"', 1))
        add("invalid utf-8", base.replace(b'"claude"', b'"claude' + bad + b'"', 1))
        add("invalid utf-8", base[:-1] + bad + b"}")
    for esc in [b"\\ud800", b"\\udc00", b"\\ud800\\u0041", b"\\udbff"]:
        add("lone surrogate", base.replace(b'"thanks"', b'"thanks' + esc + b'"', 1))
    # Wrong types and values at every level.
    for path, values in WRONG:
        for v in values:
            add("wrong type/value: " + ".".join(map(str, path[:2])), _set(VALID_BASE, path, v))
    for path in DELETE:
        add("required field missing", _set(VALID_BASE, path, None, delete=True))
    # Several mistakes at once.
    flat = [(p, v) for p, vs in WRONG for v in vs if p[0] not in ("model",)]
    for _ in range(60):
        doc = VALID_BASE
        for p, v in rnd.sample(flat, rnd.randint(2, 4)):
            try:
                doc = _set(doc, p, v)
            except (KeyError, IndexError, TypeError):
                pass
        if doc is not VALID_BASE:
            add("several mistakes", doc)
    # Empty bodies, wrong methods and paths.
    add("empty body", b"")
    for m in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD"]:
        add("wrong method", b"" if m in ("GET", "HEAD", "TRACE") else base, 405, m)
    for m in ["POST", "PUT", "DELETE"]:
        add("wrong method", base, 405, m, "/v1/models")
    for p in ["/v1/completions", "/", "/v1", "/v1/chat", "/v2/chat/completions",
              "/v1/chat/completionsX", "/v1/chat/completions/extra", "/model/x/converse", "/model/x/converse-stream",
              "/v1/chat/completions/../../model/x/converse", "/%2e%2e/model/x/converse", "/__sim/reset", "/__sim/scenario",
              "/stats", "/v1/models/claude", "/V1/CHAT/COMPLETIONS", "/v1//chat/completions"]:
        add("unknown path", base, 404, "POST", p)
    # 2 MB bodies on a gateway with the default 16 MiB limit: still malformed -> 400.
    add("2 MB", b"x" * (2 << 20))
    add("2 MB", b"[" * (2 << 20))
    add("2 MB", _set(_set(VALID_BASE, ("messages", 4, "content"), "y" * (2 << 20)), ("temperature",), "hot"))
    return cases


def test_500_malformed_requests_are_4xx_openai_errors_and_never_forwarded(envoy, sim, start_envoy):
    # The base request of the mutations is valid: every refusal below is due to its mutation.
    sim.reset()
    assert request(envoy.port, body=VALID_BASE).status == 200 and len(sim.requests) == 1
    small = start_envoy(filter_config(limits={"max_request_bytes": 1 << 20}))
    tight = start_envoy(filter_config(), buffer_limit=1 << 20)
    big_valid = json.dumps(chat("y" * (2 << 20))).encode()
    cases = malformed_requests()
    plan = [(envoy, c) for c in cases]
    plan += [(small, ("2 MB over limits.max_request_bytes", "POST", "/v1/chat/completions", b, 413))
             for b in (big_valid, b"x" * (2 << 20), big_valid[: (3 << 19)])]
    plan += [(tight, ("2 MB over Envoy's buffer limit", "POST", "/v1/chat/completions", b, 413))
             for b in (big_valid, b"z" * (2 << 20))]
    assert len(plan) >= 500, len(plan)
    sim.reset()
    t0 = time.monotonic()
    tally, failures = {}, []
    for e, (cat, method, path, body, status) in plan:
        r = request(e.port, method=method, path=path, body=body)
        key = cat.split(":")[0]
        tally.setdefault(key, {}).setdefault(r.status, 0)
        tally[key][r.status] += 1
        try:
            assert r.status == status, f"expected {status}"
            if method != "HEAD":
                kind = {404: "not_found_error"}.get(status, "invalid_request_error")
                assert_openai_error(r, status, kind)
        except (AssertionError, ValueError, KeyError) as exc:
            failures.append((cat, method, path, body[:160], r.status, r.body[:300], str(exc)[:200]))
    took = time.monotonic() - t0
    print(f"\n{len(plan)} malformed requests in {took:.1f} s ({len(plan) / took:.0f}/s):")
    for k, v in sorted(tally.items()):
        print(f"  {k:32s} {v}")
    assert not failures, "\n".join(map(repr, failures[:20]))
    assert sim.requests == [], [r["path"] for r in sim.requests][:10]
    for e in (envoy, small, tight):
        assert_serving(e)


@pytest.mark.parametrize("field,value", [("max_tokens", 2 ** 31), ("max_tokens", 2 ** 64 - 1), ("max_completion_tokens", 2 ** 63)])
def test_max_tokens_beyond_bedrocks_int32_is_refused_by_the_gateway(envoy, sim, field, value):
    sim.reset()
    r = request(envoy.port, body=chat("x", **{field: value}))
    forwarded = [json.loads(q["body"]).get("inferenceConfig", {}).get("maxTokens") for q in sim.requests]
    print(f"\n{field}={value}: {r.status}, Bedrock received maxTokens {forwarded}")
    healthy(envoy)
    assert r.status == 400 and forwarded == []


# --- 6. concurrency ----------------------------------------------------------------------------

def test_200_concurrent_streams_do_not_mix(envoy, sim):
    sim.reset()
    n = 200
    rnd = random.Random(6)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"]
    texts = [f"token-{i:03d}-{uuid.uuid4().hex[:10]} " + " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 40)))
             for i in range(n)]
    barrier = threading.Barrier(n, timeout=30)
    before = worker_connections(envoy)

    def one(i):
        conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=60)
        conn.connect()
        barrier.wait()
        r = request(envoy.port, body=chat(texts[i], stream=True), conn=conn)
        conn.close()
        return r

    t0 = time.monotonic()
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, range(n)))
    wall = time.monotonic() - t0
    ids = set()
    for i, r in enumerate(results):
        assert r.status == 200 and r.error is None, (i, r)
        content, reasoning, finish, chunk_ids, error, events = stream_text(r.body)
        want_content, want_reasoning = expected_answer(texts[i])
        assert content == want_content, (i, content[:100])
        assert reasoning == want_reasoning and error is None and finish == ["stop"], i
        assert events[-1] == "[DONE]" and events.count("[DONE]") == 1, i
        assert len(chunk_ids) == 1, chunk_ids
        ids |= chunk_ids
    assert len(ids) == n, "two streams shared a completion id"
    per_worker = {w: worker_connections(envoy)[w] - before[w] for w in before}
    lat = sorted(r.elapsed for r in results)
    print(f"\n{n} concurrent streams in {wall:.2f} s; latency p50 {lat[n // 2] * 1000:.0f} ms, "
          f"p99 {lat[int(n * .99)] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms; connections per worker {per_worker}")
    assert min(per_worker.values()) > 0
    assert len(sim.requests) == n and all(q["signature_ok"] for q in sim.requests)
    assert wait_idle(envoy) == (0, 0)
    assert_serving(envoy)


# --- 7. many sequential streams: no leak -------------------------------------------------------

def test_10000_sequential_streams_memory_stays_flat(start_envoy, sim):
    sim.reset()
    e = start_envoy(filter_config())
    # A small keep-alive pool with connections on both workers.
    pool, seen = [], {}
    for _ in range(30):
        before = worker_connections(e)
        conn = http.client.HTTPConnection("127.0.0.1", e.port, timeout=30)
        conn.connect()
        deadline = time.monotonic() + 2
        while worker_connections(e) == before and time.monotonic() < deadline:
            time.sleep(0.005)
        w = next(k for k, v in worker_connections(e).items() if v != before[k])
        if seen.get(w, 0) < 2:
            seen[w] = seen.get(w, 0) + 1
            pool.append(conn)
        else:
            conn.close()
        if len(pool) == 4:
            break
    assert len(seen) == 2, f"could not get connections on both workers: {seen}"
    total, every = 10000, 1000
    rss = [(0, rss_kb(e.proc.pid))]
    lat = []
    t0 = time.monotonic()
    for i in range(total):
        r = request(e.port, body=chat(f"ping {i}", stream=True), conn=pool[i % len(pool)])
        assert r.status == 200 and r.error is None, (i, r)
        content, _, finish, _, error, events = stream_text(r.body)
        assert content == f"You said: ping {i}" and finish == ["stop"] and error is None and events[-1] == "[DONE]", (i, events[-3:])
        lat.append(r.elapsed)
        if (i + 1) % every == 0:
            rss.append((i + 1, rss_kb(e.proc.pid)))
            sim.reset()   # the simulator keeps every request: do not let the test process grow
    took = time.monotonic() - t0
    for c in pool:
        c.close()
    lat.sort()
    print(f"\n{total} sequential streams over {len(pool)} keep-alive connections ({seen} per worker) in {took:.1f} s: "
          f"{total / took:.0f} streams/s; latency p50 {lat[total // 2] * 1000:.2f} ms, p99 {lat[int(total * .99)] * 1000:.2f} ms, "
          f"max {lat[-1] * 1000:.1f} ms")
    print("Envoy VmRSS (MB) every 1,000 streams: " + ", ".join(f"{n}: {kb / 1024:.1f}" for n, kb in rss))
    at_2000, at_end = dict(rss)[2000], dict(rss)[total]
    growth = at_end - at_2000
    print(f"growth from 2,000 to {total:,}: {growth / 1024:+.1f} MB ({growth / at_2000 * 100:+.1f}%)")
    assert growth < max(8 * 1024, at_2000 * 0.10), rss
    assert wait_idle(e) == (0, 0)
    st = e.stats("downstream_rq")
    assert st["http.openai.downstream_rq_active"] == 0
    assert st["http.openai.downstream_rq_2xx"] >= total, st
    assert_serving(e)


# --- 8. security -------------------------------------------------------------------------------

CLIENT_HEADERS = {
    "authorization": f"Bearer {CLIENT_KEY}",
    "x-api-key": "sk-ant-client-x-api-key-0001",
    "cookie": "session=client-cookie-0002; theme=dark",
    "openai-organization": "org-client-0003",
    "openai-project": "proj_client_0004",
    "proxy-authorization": "Basic Y2xpZW50LXByb3h5LTAwMDU=",
    "x-amz-security-token": "client-forged-token-0006",
    "x-amz-date": "20200101T000000Z",
    "x-amz-content-sha256": "client-forged-sha-0007",
    "x-forwarded-for": "203.0.113.9",
    "x-stainless-lang": "python",
    "x-custom-secret": "client-custom-0008",
}
CLIENT_SECRETS = [CLIENT_KEY, "client-x-api-key-0001", "client-cookie-0002", "org-client-0003", "proj_client_0004",
                  "Y2xpZW50LXByb3h5LTAwMDU", "client-forged-token-0006", "20200101T000000Z", "client-forged-sha-0007",
                  "203.0.113.9", "client-custom-0008"]


@pytest.fixture
def trace_envoy(start_envoy, monkeypatch):
    """An Envoy like the others, but with `--component-log-level wasm:trace`, and one model on
    Bedrock's OpenAI-compatible endpoint (a second forwarding path)."""
    popen = harness.subprocess.Popen

    def traced(args, *a, **kw):
        return popen([x.replace("wasm:info", "wasm:trace") for x in args], *a, **kw)

    with monkeypatch.context() as m:
        m.setattr(harness.subprocess, "Popen", traced)
        e = start_envoy(filter_config(models={"claude": CLAUDE, "oss": {"id": "openai.gpt-oss-20b-1:0", "api": "openai"}}))
    return e


def test_client_credentials_never_reach_bedrock_and_no_secret_is_logged(trace_envoy, sim):
    e = trace_envoy
    sim.reset()
    for model in ("claude", "oss"):
        for stream in (False, True):
            r = request(e.port, body=chat("secret check", stream=stream, model=model), headers=CLIENT_HEADERS)
            assert r.status == 200 and r.error is None, r
    sim.scenario("denied", status=403, body={"message": "User is not authorized"},
                 headers={"x-amzn-ErrorType": "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    assert request(e.port, body=chat("x", model="denied"), headers=CLIENT_HEADERS).status == 403
    assert request(e.port, body={"model": "claude"}, headers=CLIENT_HEADERS).status == 400
    with pytest.raises(openai.PermissionDeniedError):
        sdk(e).chat.completions.create(model="denied", messages=[{"role": "user", "content": "x"}],
                                       extra_headers={k: v for k, v in CLIENT_HEADERS.items() if k != "authorization"})

    reqs = sim.requests
    assert len(reqs) == 6, [q["path"] for q in reqs]
    signatures = []
    for q in reqs:
        assert q["signature_ok"], q
        h = q["headers"]
        assert h["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), h["authorization"]
        assert h["x-amz-security-token"] == TOKEN
        for name in ("x-api-key", "cookie", "openai-organization", "openai-project", "proxy-authorization",
                     "x-amz-content-sha256", "x-forwarded-for", "x-custom-secret"):
            assert name not in h, (name, q["path"])
        assert not any(k.startswith("x-stainless") for k in h)
        seen = json.dumps(q)
        for s in CLIENT_SECRETS:
            assert s not in seen, (s, q["path"])
        signatures.append(re.search(r"Signature=([0-9a-f]{64})", h["authorization"]).group(1))

    logs = e.logs()
    assert "[trace][wasm]" in logs, "the trace level did not take effect"
    secrets = [SECRET, SECRET[:12], TOKEN, "Signature=", "AWS4-HMAC-SHA256", *CLIENT_SECRETS, *signatures]
    leaked = [s for s in secrets if s in logs]
    assert not leaked, f"secrets in Envoy's wasm:trace log: {leaked}"
    admin = f"http://127.0.0.1:{e.admin_port}"
    for path in ("/stats", "/stats?format=json", "/stats/prometheus"):
        with urllib.request.urlopen(admin + path) as resp:
            text = resp.read().decode()
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"secrets in {path}: {leaked}"
    print(f"\nwasm:trace log: {len(logs.splitlines())} lines, {len(logs) // 1024} KB, none of {len(secrets)} secrets in it "
          f"or in /stats; note: /config_dump does show an inline `credentials` configuration (use host_env_keys)")
    assert_serving(e)


MODEL_NAMES = ["../../etc/passwd", "../converse", "x/../../y", "a/b", "a?b=c&d=e", "frag#ment", "a%2Fb", "%2e%2e%2f", "%00",
               "with space", " leading and trailing ", "rtl\u202eexe.txt", "\u05e9\u05dc\u05d5\u05dd", "\u00e9\u4e2d\U0001F600",
               "a;b,c=d", "a\\b", "~user", "...", "@", "model:0?x#y", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x",
               "x" * 2048]
SEGMENT = re.compile(r"/model/([^/?#\s]+)/(converse|converse-stream)")


@pytest.mark.parametrize("name", MODEL_NAMES, ids=lambda n: repr(n[:40]))
def test_model_names_stay_inside_the_model_segment(envoy, sim, name):
    sim.reset()
    for stream in (False, True):
        r = request(envoy.port, body=chat("x", stream=stream, model=name))
        assert r.status == 200 and r.error is None, r
        model_seen = (r.json()["model"] if not stream else json.loads(sse_events(r.body)[0])["model"])
        assert model_seen == name
    paths = [q["path"] for q in sim.requests]
    assert len(paths) == 2, paths
    for q in sim.requests:
        m = SEGMENT.fullmatch(q["path"])
        assert m, f"{name!r} was sent to {q['path']!r}"
        assert urllib.parse.unquote(m.group(1)) == name == q["model_id"]
        assert q["signature_ok"]


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, as any normalising hop (and SigV4's canonical URI) applies it."""
    out = []
    for seg in path.split("/")[1:]:
        if seg == "..":
            out = out[:-1]
        elif seg != ".":
            out.append(seg)
    return "/" + "/".join(out)


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_segment_model_names_stay_inside_the_model_segment(envoy, sim, name):
    sim.reset()
    r = request(envoy.port, body=chat("x", model=name))
    if r.status == 400:      # refusing such a name is a fix too
        assert sim.requests == []
        return
    [q] = sim.requests
    print(f"\nmodel {name!r}: {r.status}, sent to {q['path']!r}, normalised {remove_dot_segments(q['path'])!r}")
    assert remove_dot_segments(q["path"]) == q["path"]


@pytest.mark.parametrize("name", ["a\r\nb", "claude\r\nx-injected: 1", "\r\n", "a\nb", "a\rb", "claude\r\n\r\nGET / HTTP/1.1",
                                  "a\x00b", "a\tb", "a\x7fb", "a\x85b", "\x1b[31mred"], ids=repr)
def test_control_characters_in_model_are_400(envoy, sim, name):
    sim.reset()
    for stream in (False, True):
        r = request(envoy.port, body=chat("x", stream=stream, model=name))
        err = assert_openai_error(r, 400, "invalid_request_error")
        assert err["param"] == "model"
    assert sim.requests == []
    assert not any(line.startswith(("x-injected", "GET / HTTP")) for line in envoy.logs().splitlines())


ALLOWED_RESPONSE_HEADERS = {"retry-after", "date", "x-request-id", "content-type", "content-length", "transfer-encoding", "server",
                            "cache-control", "connection"}
BEDROCK_HEADERS = {"x-amzn-requestid": "aws-request-0001", "set-cookie": "AWSALB=abc; Path=/", "x-amz-id-2": "id2",
                   "x-amz-cf-id": "cf-id", "x-amz-apigw-id": "apigw", "x-amzn-trace-id": "Root=1-abc",
                   "x-amzn-bedrock-input-token-count": "5", "x-amzn-remapped-host": "internal.example",
                   "via": "1.1 cloudfront", "access-control-allow-origin": "*", "server": "AmazonBedrock",
                   "strict-transport-security": "max-age=1", "x-envoy-upstream-service-time": "1"}


def _check_response_headers(r, request_id=None):
    names = set(r.headers)
    assert names <= ALLOWED_RESPONSE_HEADERS, names - ALLOWED_RESPONSE_HEADERS
    assert r.headers["server"] == "envoy"
    if request_id:
        assert r.headers["x-request-id"] == request_id


def test_bedrock_response_headers_do_not_reach_the_client(envoy, sim):
    sim.reset()
    ok = {"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}}, "stopReason": "end_turn",
          "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}}
    sim.scenario("hdr-ok", body=ok, headers=BEDROCK_HEADERS)
    sim.scenario("hdr-err", status=429, body={"message": "slow down"},
                 headers={**BEDROCK_HEADERS, "x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    r = request(envoy.port, body=chat("x", model="hdr-ok"))
    assert r.status == 200
    _check_response_headers(r, "aws-request-0001")
    for stream in (False, True):
        r = request(envoy.port, body=chat("x", model="hdr-err", stream=stream))
        assert_openai_error(r, 429, "rate_limit_error")
        _check_response_headers(r, "aws-request-0001")
    # A generated stream: the simulator's x-amzn-requestid becomes x-request-id.
    r = request(envoy.port, body=chat("x", stream=True))
    assert r.status == 200
    _check_response_headers(r)
    assert re.fullmatch(r"[0-9a-f-]{36}", r.headers["x-request-id"]), r.headers
    print(f"\nresponse headers the client sees: {sorted(r.headers)}")
    assert_serving(envoy)
