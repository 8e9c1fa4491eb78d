"""Clients for the in-Envoy benchmark.

`raw_streams` is a minimal asyncio HTTP/1.1 client: it times every socket read, decodes the
chunked body, and reads either OpenAI SSE (`data: {...}` events) or Bedrock's binary
eventstream (frames split by their length prefix). Every delta carries the upstream's 6-char
base-36 stamp (µs since the epoch `t0_ns`, CLOCK_MONOTONIC), so latency = read time − stamp.
`sdk_stream` does the same through the official openai SDK.
"""

import asyncio
import re
import time
from array import array

# One delta per SSE event: the filter writes `content` or `reasoning`; LiteLLM `reasoning_content`.
# Text = " " + 6-character base-36 stamp (µs since t0) + a sequence character.
SSE_STAMP = re.compile(rb'"(?:content|reasoning|reasoning_content)":" ([0-9a-z]{6})[0-9A-Za-z]"')
ES_STAMP = re.compile(rb'"text":" ([0-9a-z]{6})[0-9A-Za-z]"')
API_KEY = "sk-bench"  # the filter ignores it; LiteLLM is started with it as its master key


class Result:
    def __init__(self):
        self.status = None
        self.ttft_ns = None          # request written -> first stamped delta read
        self.first_byte_ns = None    # request written -> response headers read
        self.latency_us = array("q")  # per delta: read time - upstream send time
        self.deltas = 0
        self.events = 0              # SDK only
        self.done = False            # [DONE] (SSE) or metadata frame (eventstream) seen
        self.bytes = 0
        self.error = None
        self.total_ns = None


class ChunkedDecoder:
    """Incremental HTTP/1.1 chunked transfer decoding."""

    def __init__(self):
        self.buf = bytearray()
        self.left = 0       # bytes of the current chunk still to read
        self.trail = False  # expecting the CRLF after a chunk
        self.ended = False

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        out = bytearray()
        while self.buf and not self.ended:
            if self.left:
                n = min(self.left, len(self.buf))
                out += self.buf[:n]
                del self.buf[:n]
                self.left -= n
                if not self.left:
                    self.trail = True
                continue
            if self.trail:
                if len(self.buf) < 2:
                    break
                del self.buf[:2]
                self.trail = False
                continue
            i = self.buf.find(b"\r\n")
            if i < 0:
                break
            size = int(bytes(self.buf[:i]).split(b";")[0], 16)
            del self.buf[: i + 2]
            if size == 0:
                self.ended = True
            else:
                self.left = size
        return bytes(out)


class SSEParser:
    """Stamps of the complete events in each read (one regex pass over them)."""

    def __init__(self):
        self.buf = b""

    def feed(self, data: bytes, res: Result):
        buf = self.buf + data
        cut = buf.rfind(b"\n\n")
        if cut < 0:
            self.buf = buf
            return []
        done, self.buf = buf[:cut + 2], buf[cut + 2:]
        if b"data: [DONE]" in done:
            res.done = True
        if b'{"error"' in done and res.error is None:
            k = done.index(b'{"error"')
            res.error = done[k:k + 300].decode(errors="replace")
        return SSE_STAMP.findall(done)


class EventStreamParser:
    """Stamps of the complete frames in each read (split by their length prefix)."""

    def __init__(self):
        self.buf = b""

    def feed(self, data: bytes, res: Result):
        buf = self.buf + data
        pos = 0
        while len(buf) - pos >= 4:
            n = int.from_bytes(buf[pos:pos + 4], "big")
            if n < 16 or len(buf) - pos < n:
                break
            pos += n
        done, self.buf = buf[:pos], buf[pos:]
        if b"metadata" in done:
            res.done = True
        return ES_STAMP.findall(done)


async def one_stream(port: int, path: str, body: bytes, kind: str, t0_ns: int, start_at_ns: int = 0) -> Result:
    res = Result()
    if start_at_ns:
        await asyncio.sleep(max(0, start_at_ns - time.monotonic_ns()) / 1e9)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    req = (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
           f"authorization: Bearer {API_KEY}\r\naccept: text/event-stream\r\ncontent-length: {len(body)}\r\n\r\n").encode() + body
    t_send = time.monotonic_ns()
    writer.write(req)
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        res.first_byte_ns = time.monotonic_ns() - t_send
        lines = head.decode("latin-1").split("\r\n")
        res.status = int(lines[0].split(" ")[1])
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
        chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        length = int(headers.get("content-length", "-1"))
        dec = ChunkedDecoder() if chunked else None
        parser = SSEParser() if kind == "sse" else EventStreamParser()
        lat = res.latency_us
        got = 0
        while True:
            data = await reader.read(262144)
            t = time.monotonic_ns()
            if not data:
                break
            res.bytes += len(data)
            got += len(data)
            payload = dec.feed(data) if dec else data
            stamps = parser.feed(payload, res)
            if stamps:
                if res.ttft_ns is None:
                    res.ttft_ns = t - t_send
                base = (t - t0_ns) // 1000
                lat.extend([base - int(s, 36) for s in stamps])
                res.deltas += len(stamps)
            if (dec and dec.ended) or (not dec and length >= 0 and got >= length):
                break
        if res.status != 200 and res.error is None:
            res.error = f"HTTP {res.status}: {parser.buf[:300]!r}"
    except Exception as e:  # noqa: BLE001 - reported, not raised
        res.error = f"{type(e).__name__}: {e}"
    finally:
        res.total_ns = time.monotonic_ns() - t_send
        writer.close()
    return res


async def _many(targets, t0_ns, n, stagger_ns):
    now = time.monotonic_ns() + 5_000_000
    tasks = [[one_stream(port, path, body, kind, t0_ns, now + i * stagger_ns) for i in range(n)]
             for port, path, body, kind in targets]
    flat = await asyncio.gather(*(t for ts in tasks for t in ts))
    return [flat[j * n:(j + 1) * n] for j in range(len(targets))]


def raw_multi(targets, t0_ns: int, n: int = 1, stagger_ns: int = 0):
    """`n` concurrent streams to each of `targets` [(port, path, body, kind)] at the same time
    (stream i of every target starts at the same instant, `stagger_ns` after stream i-1);
    a list of Results per target."""
    return asyncio.run(_many(targets, t0_ns, n, stagger_ns))


def raw_streams(port: int, path: str, body: bytes, kind: str, t0_ns: int, n: int = 1, stagger_ns: int = 0):
    """`n` concurrent streams, started `stagger_ns` apart; a list of Result."""
    return raw_multi([(port, path, body, kind)], t0_ns, n, stagger_ns)[0]


def sdk_stream(base_url: str, model: str, t0_ns: int, reasoning_keys=("reasoning", "reasoning_content")) -> Result:
    """One stream through the official openai SDK (SDK parsing included in the latency)."""
    import openai  # noqa: F401 - imported before the clock starts

    res = Result()
    client = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0, timeout=300)
    t_send = time.monotonic_ns()
    try:
        stream = client.chat.completions.create(model=model, stream=True,
                                                messages=[{"role": "user", "content": "Write a long answer."}])
        res.status = 200
        res.first_byte_ns = time.monotonic_ns() - t_send
        for chunk in stream:
            t = time.monotonic_ns()
            res.events += 1
            if not chunk.choices:
                continue
            d = chunk.choices[0].delta
            text = d.content
            if not text:
                extra = d.model_extra or {}
                text = next((extra[k] for k in reasoning_keys if extra.get(k)), None)
            if text and len(text) == 8 and text[0] == " ":
                if res.ttft_ns is None:
                    res.ttft_ns = t - t_send
                res.latency_us.append((t - t0_ns) // 1000 - int(text[1:7], 36))
                res.deltas += 1
        res.done = True
    except Exception as e:  # noqa: BLE001
        res.error = f"{type(e).__name__}: {e}"
    res.total_ns = time.monotonic_ns() - t_send
    return res
