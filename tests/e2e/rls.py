"""Real rate-limit services for the e2e tests: Debian's redis-server and Limitador (built once per
machine by scripts/limitador.sh), each on free loopback ports, stopped by their PID."""

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from harness import ARTIFACTS, ROOT, free_port

LIMITADOR_CACHE = Path(os.environ.get("LIMITADOR_CACHE") or Path.home() / ".cache" / "limitador-2981b2b")


def limitador_binary():
    """The cached limitador-server, or None (scripts/limitador.sh builds it: ~16 min, once)."""
    b = LIMITADOR_CACHE / "bin" / "limitador-server"
    return b if os.access(b, os.X_OK) else None


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
        self.http_port = free_port()
        port = free_port()
        super().__init__("limitador", [str(limitador_binary()), "-b", "127.0.0.1", "-p", str(port), "-B", "127.0.0.1",
                                       "-P", str(self.http_port), str(limits_file), "redis",
                                       f"redis://127.0.0.1:{redis_port}"], port)
        _wait_port(self.http_port, self.proc, "limitador http")

    def counters(self, namespace="bedrock"):
        import json
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/counters/{namespace}", timeout=5) as r:
            return json.load(r)


