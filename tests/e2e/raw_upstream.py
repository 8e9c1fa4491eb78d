"""The raw-socket HTTP/1.1 server shared by the e2e fault upstream (load.FaultyUpstream) and the
in-Envoy benchmark's paced upstream (bench/envoy/upstream.py): what http.server cannot do for
them is reset a connection for real, write from another thread through non-blocking sockets,
and read keep-alive requests one after another on one connection. Binds 127.0.0.1 only."""

import socket
import struct
import threading

HOST = "127.0.0.1"


class RawUpstream:
    """Listens on 127.0.0.1 (`port` 0: a free one) and serves each accepted connection in its
    own thread with `self.serve(conn)`, which subclasses define; `setup(conn)` runs first."""

    def __init__(self, port: int = 0, backlog: int = 256):
        self.closed = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, port))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def setup(self, conn):
        """Socket options for an accepted connection (none by default)."""

    def serve(self, conn):
        raise NotImplementedError

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.setup(c)
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()


def _fill(c, buf: bytes, until) -> bytes:
    """Read from `c` into `buf` until `until(buf)`; None if the peer closed first."""
    while not until(buf):
        d = c.recv(65536)
        if not d:
            return None
        buf += d
    return buf


def read_request(c, buf: bytes = b""):
    """One HTTP/1.1 request from `c` (bytes already read in `buf`): ((method, path, lower-case
    headers, body), the bytes after it), or (None, b"") if the peer closed. Bodies by
    content-length or chunked."""
    buf = _fill(c, buf, lambda b: b"\r\n\r\n" in b)
    if buf is None:
        return None, b""
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            buf = _fill(c, buf, lambda b: b"\r\n" in b)
            if buf is None:
                return None, b""
            line, buf = buf.split(b"\r\n", 1)
            n = int(line.split(b";")[0], 16)
            buf = _fill(c, buf, lambda b, n=n: len(b) >= n + 2)
            if buf is None:
                return None, b""
            body, buf = body + buf[:n], buf[n + 2:]
            if n == 0:
                return (method, path, headers, body), buf
    n = int(headers.get("content-length", "0"))
    buf = _fill(c, buf, lambda b: len(b) >= n)
    if buf is None:
        return None, b""
    return (method, path, headers, buf[:n]), buf[n:]


def reset(c, rst: bool = True):
    """Close `c` with a TCP RST (linger 0) or, with rst=False, a plain shutdown (FIN)."""
    if rst:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        c.shutdown(socket.SHUT_RDWR)
    c.close()
