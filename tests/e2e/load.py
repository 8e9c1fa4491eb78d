"""Helpers for test_resilience.py: raw HTTP clients that see every byte Envoy sends, an upstream
that really resets its connections, and the checks that Envoy (and the wasm VM on each of its
workers) is still healthy. Everything talks to 127.0.0.1 only."""

import http.client
import json
import re
import threading
import time
import uuid

from raw_upstream import RawUpstream, read_request, reset
from sim import generated_json, generated_stream

HOST = "127.0.0.1"

# Lines Envoy writes when a wasm VM traps (a Rust panic is `unreachable` in wasm) or fails.
CRASH_PATTERNS = re.compile(
    r"panicked|unreachable|Function: proxy_on_|Wasm VM failed|RuntimeError|stack overflow|"
    r"Maximum call stack|Caught (Segmentation|Abort)|backtrace", re.IGNORECASE)


# --- plain HTTP ---------------------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body, error=None, elapsed=0.0):
        self.status, self.headers, self.body, self.error, self.elapsed = status, headers, body, error, elapsed

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Response({self.status}, {self.body[:300]!r}, error={self.error!r})"


def request(port, method="POST", path="/v1/chat/completions", body=b"", headers=None, timeout=15, conn=None):
    """One request; `body` may be a dict (sent as JSON) or bytes. Errors while reading the body
    are kept in `.error` (with the bytes read so far) instead of raised."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    own = conn is None
    conn = conn or http.client.HTTPConnection(HOST, port, timeout=timeout)
    t0 = time.monotonic()
    h = {"content-type": "application/json", **(headers or {})}
    try:
        conn.request(method, path, body, h)
    except (BrokenPipeError, ConnectionResetError):
        pass  # Envoy may answer (and close) before it has read a large body: read the answer anyway
    r = conn.getresponse()
    chunks, error = [], None
    try:
        while True:
            c = r.read1(65536) if hasattr(r, "read1") else r.read(65536)
            if not c:
                break
            chunks.append(c)
    except (http.client.HTTPException, OSError) as e:
        error = e
    if own:
        conn.close()
    return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, b"".join(chunks), error, time.monotonic() - t0)


def chat(text, stream=False, model="claude", **extra):
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}], **extra}


def sse_events(data: bytes) -> list:
    """`data: ...` events of an SSE body, as strings; asserts the framing."""
    text = data.decode("utf-8")
    assert text.endswith("\n\n"), f"SSE body does not end with a blank line: {text[-200:]!r}"
    events = [e for e in text.split("\n\n") if e]
    for e in events:
        assert e.startswith("data: ") and "\n" not in e, f"not one SSE data line: {e[:200]!r}"
    return [e[6:] for e in events]


def stream_text(data: bytes):
    """(content, reasoning, finish reasons, ids, error or None, events) of an SSE body."""
    events = sse_events(data)
    content, reasoning, finish, ids, error = "", "", [], set(), None
    for e in events:
        if e == "[DONE]":
            continue
        obj = json.loads(e)
        if "error" in obj:
            error = obj["error"]
            continue
        ids.add(obj["id"])
        for c in obj.get("choices", []):
            content += c["delta"].get("content") or ""
            reasoning += c["delta"].get("reasoning") or ""
            if c.get("finish_reason"):
                finish.append(c["finish_reason"])
    return content, reasoning, finish, ids, error, events


def assert_openai_error(resp, status, kind=None):
    assert resp.status == status, resp
    assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
    err = resp.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    assert isinstance(err["message"], str) and err["message"], err
    if kind:
        assert err["type"] == kind, err
    return err


def assert_sse_error_then_done(resp, kind="server_error"):
    """A 200 stream that ends with one error event and [DONE], nothing after."""
    assert resp.status == 200 and resp.error is None, resp
    assert resp.headers["content-type"].startswith("text/event-stream"), resp.headers
    events = sse_events(resp.body)
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1, events[-3:]
    err = json.loads(events[-2])["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    if kind:
        assert err["type"] == kind, err
    return err, events


# --- Envoy health ------------------------------------------------------------------------------

def worker_connections(envoy) -> dict:
    """Connections accepted so far by each worker of the OpenAI listener."""
    out = {}
    for name, value in envoy.stats(f"listener.127.0.0.1_{envoy.port}.worker_").items():
        m = re.search(r"worker_(\d+)\.downstream_cx_total$", name)
        if m:
            out[int(m.group(1))] = value
    return out


def crash_lines(envoy) -> list:
    return [line for line in envoy.logs().splitlines() if CRASH_PATTERNS.search(line)]


def wait_idle(envoy, timeout=15.0):
    """Wait until no request is active downstream or upstream; return the last values."""
    deadline = time.monotonic() + timeout
    while True:
        st = envoy.stats("rq_active")
        active = (st.get("http.openai.downstream_rq_active", 0), st.get("cluster.bedrock.upstream_rq_active", 0))
        if active == (0, 0) or time.monotonic() > deadline:
            return active
        time.sleep(0.05)


def assert_serving(envoy, n=8, min_per_worker=2, max_requests=48):
    """Envoy is alive, its log has no wasm failure, and every worker still answers correctly:
    at least `n` requests on fresh connections (streaming and not, alternately) and at least
    `min_per_worker` answered by each worker (checked with per-worker listener stats)."""
    assert envoy.alive(), "envoy exited"
    before = worker_connections(envoy)
    workers = sorted(before)
    assert len(workers) == 2, before
    sent = 0
    while sent < max_requests:
        per_worker = {w: worker_connections(envoy)[w] - before[w] for w in workers}
        if sent >= n and min(per_worker.values()) >= min_per_worker:
            break
        token = uuid.uuid4().hex[:12]
        stream = sent % 2 == 1
        r = request(envoy.port, body=chat(f"alive {token}", stream=stream), headers={"connection": "close"})
        assert r.status == 200 and r.error is None, f"request {sent} after the scenario failed: {r}"
        if stream:
            content, _, finish, _, error, events = stream_text(r.body)
            assert error is None and events[-1] == "[DONE]" and finish == ["stop"], events[-3:]
        else:
            content = r.json()["choices"][0]["message"]["content"]
        assert content == f"You said: alive {token}", content
        sent += 1
    per_worker = {w: worker_connections(envoy)[w] - before[w] for w in workers}
    assert min(per_worker.values()) >= min_per_worker, f"a worker got too few connections: {per_worker}"
    assert envoy.alive()
    bad = crash_lines(envoy)
    assert not bad, "wasm failure in Envoy's log:\n" + "\n".join(bad[:20])
    st = envoy.stats("wasm.")
    assert not any(v for k, v in st.items() if "vm_reload" in k), st
    return per_worker


def rss_kb(pid) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# --- an upstream that really breaks ------------------------------------------------------------

class FaultyUpstream(RawUpstream):
    """A minimal HTTP/1.1 server playing Bedrock for faults the simulator cannot produce
    (its `reset_after_bytes` leaves the socket open: `socket.close()` is deferred while the
    handler's `rfile` holds a reference, so Envoy never sees the reset).

    Per model id (`/model/{id}/...`), `plans[id]` says what to do:
      {"data": bytes, "reset_after": n | None, "rst": True, "piece": size, "delay_ms": ms,
       "content_type": ..., "before_headers": True (close without answering)}
    Model ids without a plan get the simulator's generated answers. No signature check."""

    def __init__(self):
        super().__init__(backlog=256)
        self.plans = {}
        self.requests = []
        self.lock = threading.Lock()

    def serve(self, c):
        self._serve(c)

    def _serve(self, c):
        buf = b""
        try:
            c.settimeout(30)
            while not self.closed:
                req, buf = read_request(c, buf)
                if req is None:
                    return
                method, path, headers, body = req
                with self.lock:
                    self.requests.append({"method": method, "path": path, "headers": headers})
                m = re.fullmatch(r"/model/([^/]+)/(converse|converse-stream)", path)
                model = m.group(1) if m else ""
                plan = self.plans.get(model)
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = {}
                if plan is None:
                    if m and m.group(2) == "converse-stream":
                        self._chunked(c, b"".join(generated_stream(parsed)), {})
                    else:
                        data = json.dumps(generated_json(parsed)).encode()
                        c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                                  b"x-amzn-requestid: %s\r\n\r\n%s" % (len(data), uuid.uuid4().hex.encode(), data))
                    continue
                if plan.get("before_headers"):
                    self._reset(c, plan.get("rst", True))
                    return
                if not self._chunked(c, plan["data"], plan):
                    return
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    @staticmethod
    def _reset(c, rst):
        reset(c, rst)

    def _chunked(self, c, data, plan):
        """Send `data` as a chunked eventstream body; False if the plan cut the connection."""
        ctype = plan.get("content_type", "application/vnd.amazon.eventstream").encode()
        c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\nx-amzn-requestid: %s\r\n\r\n"
                  % (ctype, uuid.uuid4().hex.encode()))
        cut = plan.get("reset_after")
        piece = plan.get("piece") or 512
        delay = plan.get("delay_ms", 0) / 1000
        sent = 0
        while sent < len(data):
            p = data[sent:sent + piece]
            if cut is not None and sent + len(p) >= cut:
                p = p[:cut - sent]
                if p:
                    c.sendall(b"%x\r\n%s\r\n" % (len(p), p))
                time.sleep(0.05)  # let Envoy forward what it has before the reset
                self._reset(c, plan.get("rst", True))
                return False
            c.sendall(b"%x\r\n%s\r\n" % (len(p), p))
            sent += len(p)
            if delay:
                time.sleep(delay)
        if cut is not None:
            time.sleep(0.05)
            self._reset(c, plan.get("rst", True))
            return False
        c.sendall(b"0\r\n\r\n")
        return True
