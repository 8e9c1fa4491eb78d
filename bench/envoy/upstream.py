"""A fast fake Bedrock ConverseStream for the in-Envoy benchmark (not a correctness test).

It accepts any POST to /model/{id}/converse-stream (URL-encoded ids included, as LiteLLM sends
them) without checking the signature, answers 200 with a chunked
`application/vnd.amazon.eventstream` body and paces it: `burst` frames every `interval_us`.
Frames are precomputed; every reasoning/text delta (8 characters) carries a 6-character base-36 stamp (µs of
CLOCK_MONOTONIC since the benchmark's epoch `--t0-ns`) patched in just before the write, with the
frame's CRC recomputed, so a client on the same machine gets arrival − send per delta.

One ticker thread (1 ms tick) writes every stream through non-blocking sockets: a slow reader
only delays its own stream. Frames are stamped when the ticker generates them, so the ticker's
own lateness is not counted as latency, but time spent queued behind a proxy that does not read
(TCP back-pressure) is.

Control (same port, plain HTTP):
  POST /__bench/scenario {"reasoning", "content", "interval_us", "burst"}
  GET  /__bench/stats    {"requests", "paths", "frames_sent", "streams_done"}
"""

import argparse
import heapq
import json
import re
import select
import socket
import struct
import sys
import threading
import time
import zlib
from pathlib import Path

# The eventstream frame encoder of the end-to-end simulator (one implementation of the wire format)
# and the raw HTTP/1.1 server shared with the e2e fault upstream (load.FaultyUpstream).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
from raw_upstream import RawUpstream, read_request  # noqa: E402
from sim import frame  # noqa: E402

B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PLACEHOLDER = b"~~~~~~"
PAD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def b36(n: int, width: int = 6) -> bytes:
    """Fixed-width base 36: 6 characters hold 2.1e9 µs (36 minutes); clients decode with int(s, 36)."""
    out = bytearray(width)
    for i in range(width - 1, -1, -1):
        n, r = divmod(n, 36)
        out[i] = ord(B36[r])
    return bytes(out)


def event(kind: str, payload: dict) -> bytes:
    return frame({":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
                 json.dumps(payload, separators=(",", ":")).encode())


def build_frames(reasoning: int, content: int):
    """[(template bytes, stamp offset or -1)] of one ConverseStream body, like Claude's: a few
    reasoning deltas, a signature, then `content` text deltas of 8 characters (" " + stamp + seq),
    each with Bedrock's variable `p` padding."""
    out = [(event("messageStart", {"p": "abcdefghijk", "role": "assistant"}), -1)]
    stamp = PLACEHOLDER.decode()

    def stamped(payload):
        f = event("contentBlockDelta", payload)
        return f, f.index(PLACEHOLDER)

    # " " + stamp + one sequence character: consecutive deltas always differ (LiteLLM ends a
    # stream whose chunks repeat too often, which a burst sharing one stamp would trigger).
    for i in range(reasoning):
        out.append(stamped({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": " " + stamp + B62[i % 62]}},
                            "p": PAD[: 1 + i % 40]}))
    out.append((event("contentBlockDelta", {"contentBlockIndex": 0,
                                            "delta": {"reasoningContent": {"signature": "EqQBCkgIARABGAIiQMZ3c2lnbmF0dXJl"}},
                                            "p": "abc"}), -1))
    out.append((event("contentBlockStop", {"contentBlockIndex": 0, "p": "abcdefgh"}), -1))
    for i in range(content):
        out.append(stamped({"contentBlockIndex": 1, "delta": {"text": " " + stamp + B62[i % 62]}, "p": PAD[: 1 + i % 40]}))
    out.append((event("contentBlockStop", {"contentBlockIndex": 1, "p": "abcdefgh"}), -1))
    out.append((event("messageStop", {"p": "abcdef", "stopReason": "end_turn"}), -1))
    out.append((event("metadata", {"metrics": {"latencyMs": 1234}, "p": "abc",
                                   "usage": {"inputTokens": 10, "outputTokens": reasoning + content,
                                             "totalTokens": 10 + reasoning + content}}), -1))
    return out


class Stream:
    __slots__ = ("sock", "frames", "next", "start", "interval", "burst", "pending", "done", "finished")

    def __init__(self, sock, frames, interval_ns, burst):
        self.sock, self.frames, self.next = sock, frames, 1
        self.start, self.interval, self.burst = time.monotonic_ns(), interval_ns, burst
        self.pending = bytearray()
        self.done = threading.Event()
        self.finished = False  # every frame queued (terminating chunk included)


class Upstream(RawUpstream):
    def __init__(self, t0_ns: int, port: int = 0):
        self.t0 = t0_ns
        self.scenario = {"reasoning": 20, "content": 5000, "interval_us": 1000, "burst": 1}
        self.frames = build_frames(20, 5000)
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.streams = []
        self.requests = 0
        self.paths = {}
        self.frames_sent = 0
        self.streams_done = 0
        super().__init__(port, backlog=1024)
        threading.Thread(target=self._ticker, daemon=True).start()

    # --- connections ---------------------------------------------------------------------
    def setup(self, c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)

    def serve(self, c):
        self._serve(c)

    def _serve(self, c):
        buf = b""
        try:
            while True:
                req, buf = read_request(c, buf)
                if req is None:
                    return
                method, path, headers, body = req
                if path.startswith("/__bench/"):
                    self._control(c, method, path, body)
                    continue
                with self.lock:
                    self.requests += 1
                    key = re.sub(r"/model/[^/]+/", "/model/{id}/", path)
                    self.paths[key] = self.paths.get(key, 0) + 1
                    frames, sc = self.frames, dict(self.scenario)
                if method != "POST" or not re.fullmatch(r"/model/[^/]+/converse-stream", path):
                    data = json.dumps({"message": f"Unknown operation {method} {path}"}).encode()
                    c.sendall(b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n"
                              b"x-amzn-ErrorType: UnknownOperationException:http://internal.amazon.com/coral/com.amazon.bedrock/\r\n"
                              b"content-length: %d\r\n\r\n%s" % (len(data), data))
                    continue
                # Headers, messageStart and the first burst of deltas at once; the ticker sends the rest.
                s = Stream(c, frames, sc["interval_us"] * 1000, sc["burst"])
                end = min(len(frames), 1 + sc["burst"])
                first = self._batch(frames[:end], b36((time.monotonic_ns() - self.t0) // 1000))
                s.next = end
                c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\n"
                          b"transfer-encoding: chunked\r\nx-amzn-requestid: 00000000-0000-0000-0000-000000000000\r\n\r\n"
                          b"%x\r\n%s\r\n" % (len(first), first))
                with self.lock:
                    self.frames_sent += end
                c.setblocking(False)
                with self.lock:
                    self.streams.append(s)
                    self.wake.notify()
                s.done.wait()
                c.setblocking(True)
        except OSError:
            pass
        finally:
            c.close()

    def _control(self, c, method, path, body):
        with self.lock:
            if path == "/__bench/scenario" and method == "POST":
                sc = dict(self.scenario, **json.loads(body))
                self.scenario = sc
                self.frames = build_frames(sc["reasoning"], sc["content"])
                out = {"ok": True, "frames": len(self.frames), "bytes": sum(len(f) for f, _ in self.frames),
                       "max_frame": max(len(f) for f, _ in self.frames)}
            elif path == "/__bench/stats":
                out = {"requests": self.requests, "paths": self.paths, "frames_sent": self.frames_sent,
                       "streams_done": self.streams_done}
            else:
                out = {"error": path}
        data = json.dumps(out).encode()
        c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(data), data))

    # --- pacing --------------------------------------------------------------------------
    @staticmethod
    def _batch(frames, stamp: bytes) -> bytearray:
        batch = bytearray()
        for tpl, off in frames:
            if off >= 0:
                f = bytearray(tpl)
                f[off:off + 6] = stamp
                f[-4:] = struct.pack(">I", zlib.crc32(memoryview(f)[:-4]))
                batch += f
            else:
                batch += tpl
        return batch

    def _ticker(self):
        """Every 1 ms: generate the frames that are due (streams in a heap by due time), then
        retry whatever a full socket left pending."""
        tick = 1_000_000
        heap, pending, seq = [], set(), 0
        nxt = time.monotonic_ns()
        while True:
            with self.lock:
                if not heap and not pending and not self.streams:
                    self.wake.wait()
                    nxt = time.monotonic_ns()
                new, self.streams = self.streams, []
            for s in new:
                seq += 1
                heapq.heappush(heap, (s.start + s.interval, seq, s))
            now = time.monotonic_ns()
            stamp = b36((now - self.t0) // 1000)
            sent, finished = 0, []
            while heap and heap[0][0] <= now:
                due_at, _, s = heapq.heappop(heap)
                end = min(1 + s.burst * (1 + (now - s.start) // s.interval), len(s.frames))
                if end > s.next:
                    batch = self._batch(s.frames[s.next:end], stamp)
                    sent += end - s.next
                    s.next = end
                    s.pending += b"%x\r\n" % len(batch)
                    s.pending += batch
                    s.pending += b"\r\n"
                if end == len(s.frames):
                    s.pending += b"0\r\n\r\n"
                    s.finished = True
                else:
                    seq += 1
                    heapq.heappush(heap, (s.start + ((now - s.start) // s.interval + 1) * s.interval, seq, s))
                pending.add(s)
            for s in list(pending):
                if s.pending:
                    try:
                        n = s.sock.send(s.pending)
                        del s.pending[:n]
                    except BlockingIOError:
                        pass
                    except OSError:
                        s.pending.clear()
                        if not s.finished:
                            s.finished = True
                            heap = [h for h in heap if h[2] is not s]
                            heapq.heapify(heap)
                if not s.pending:
                    pending.discard(s)
                    if s.finished:
                        finished.append(s)
            if sent or finished:
                with self.lock:
                    self.frames_sent += sent
                    self.streams_done += len(finished)
                for s in finished:
                    s.done.set()
            nxt += tick
            delay = nxt - time.monotonic_ns()
            if delay > 0:
                time.sleep(delay / 1e9)
            else:
                nxt = time.monotonic_ns()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--t0-ns", type=int, required=True, help="epoch of the stamps, time.monotonic_ns()")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    up = Upstream(args.t0_ns, args.port)
    print(up.port, flush=True)
    sys.stdin.read()  # exit when the parent closes our stdin


if __name__ == "__main__":
    main()
