"""Real rate-limit services for the e2e tests: Debian's redis-server and Limitador (built once per
machine by scripts/limitador.sh), each on free loopback ports, stopped by their PID."""

import shutil
import socket
import subprocess
import time
from pathlib import Path

from harness import ARTIFACTS, ROOT, free_port

def limitador_binary():
    """limitador-server, from scripts/limitador.sh: the cached binary, built first when missing
    (once per machine; `make e2e` builds it before the tests start)."""
    out = subprocess.run([str(ROOT / "scripts" / "limitador.sh")], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def _wait_port(port, proc, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


class Service:
    def __init__(self, name, argv, port):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.port, self.name = port, name
        self.log_path = ARTIFACTS / f"{name}-{port}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        _wait_port(port, self.proc, name)

    def stop(self):
        """SIGTERM (then SIGKILL after 10 s) to this service's own process."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def redis():
    port = free_port()
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    return Service("redis", [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"], port)


class Limitador(Service):
    def __init__(self, limits_file, redis_port):
        self.http_port, self.redis_port = free_port(), redis_port
        port = free_port()
        super().__init__("limitador", [str(limitador_binary()), "-b", "127.0.0.1", "-p", str(port), "-B", "127.0.0.1",
                                       "-P", str(self.http_port), str(limits_file), "redis",
                                       f"redis://127.0.0.1:{redis_port}"], port)
        _wait_port(self.http_port, self.proc, "limitador http")

    def redis_counters(self):
        """The integer values Limitador keeps in Redis (its keys are binary; its own `/counters`
        endpoint cannot list counters shared by two limits through one `id`: it panics)."""
        cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        port = ["-p", str(self.redis_port)]
        keys = subprocess.run([cli, *port, "--scan"], check=True, capture_output=True).stdout.splitlines()
        values = [subprocess.run([cli, *port, "GET", k], capture_output=True, text=True).stdout.strip() for k in keys]
        return sorted(int(v) for v in values if v.isdigit())




# --- A recording RLS: what Envoy's rate limit filter sends, with no limit of its own ---------------
# Envoy's RLS protocol (envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit) is gRPC over
# HTTP/2; messages are decoded by hand (RateLimitRequest: domain = 1, descriptors = 2 (entries = 1:
# key = 1, value = 2), hits_addend = 3) and every request is answered OK (overall_code = 1).

def _varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return n, i


def _fields(b):
    i = 0
    while i < len(b):
        tag, i = _varint(b, i)
        if tag & 7 == 0:
            v, i = _varint(b, i)
        elif tag & 7 == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError(f"wire type {tag & 7}")
        yield tag >> 3, v


def decode_rate_limit_request(b):
    out = {"domain": "", "descriptors": [], "hits_addend": 0}
    for f, v in _fields(b):
        if f == 1:
            out["domain"] = v.decode()
        elif f == 2:
            # RateLimitDescriptor: entries = 1, hits_addend = 3 (a UInt64Value: value = 1).
            entries = [dict((k, x.decode()) for k, x in _fields(e)) for fe, e in _fields(v) if fe == 1]
            addend = [dict(_fields(x)).get(1, 0) for fd, x in _fields(v) if fd == 3]
            out["descriptors"].append([(e.get(1, ""), e.get(2, "")) for e in entries] + [("hits_addend", a) for a in addend])
        elif f == 3:
            out["hits_addend"] = v
    return out


def _field(n, payload: bytes) -> bytes:
    return bytes([n << 3 | 2, len(payload)]) + payload


# RateLimitResponse: overall_code = 2 (OVER_LIMIT), one DescriptorStatus (code OVER_LIMIT, a limit
# of 100 per minute, 0 remaining, reset in 42 s): what Envoy's x-ratelimit-* headers come from.
OVER_LIMIT = b"\x08\x02" + _field(2, b"\x08\x02" + _field(2, b"\x08\x64\x10\x02") + b"\x18\x00" + _field(4, b"\x08\x2a"))


class RecordingRls:
    """Answers OK, or OVER_LIMIT to admissions once `refuse` is set."""

    def __init__(self):
        import threading
        self.requests, self.lock, self.refuse = [], threading.Lock(), False
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import threading
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        import h2.config
        import h2.connection
        import h2.events
        h = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        h.initiate_connection()
        conn.sendall(h.data_to_send())
        bodies = {}
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            for ev in h.receive_data(data):
                if isinstance(ev, h2.events.DataReceived):
                    bodies[ev.stream_id] = bodies.get(ev.stream_id, b"") + ev.data
                    h.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    msg = bodies.pop(ev.stream_id, b"")[5:]
                    req = decode_rate_limit_request(msg)
                    with self.lock:
                        self.requests.append(req)
                    admit = any(("phase", "admit") in d for d in req["descriptors"])
                    reply = OVER_LIMIT if self.refuse and admit else b"\x08\x01"  # overall_code: OK
                    h.send_headers(ev.stream_id, [(":status", "200"), ("content-type", "application/grpc")])
                    h.send_data(ev.stream_id, b"\x00" + len(reply).to_bytes(4, "big") + reply)
                    h.send_headers(ev.stream_id, [("grpc-status", "0")], end_stream=True)
            conn.sendall(h.data_to_send())

    def stop(self):
        self.sock.close()
