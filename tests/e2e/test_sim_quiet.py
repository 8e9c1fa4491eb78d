"""The simulator prints no traceback when a client resets a connection it is writing to (an
expected outcome of the disconnect, timeout and limit tests), and still prints every other error."""

import socket
import struct
import time

from sim import SimServer, event, start_sim


def test_a_reset_while_streaming_prints_nothing_and_a_real_error_still_does(capfd):
    server, port, sim = start_sim(bearer_token="tok")
    try:
        frames = b"".join(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "x" * 4000}})
                          for _ in range(200))
        sim.scenarios["m"] = {"model_id": "m", "raw_hex": frames.hex(), "frame_delay_ms": 5}
        body = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /model/m/converse-stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer tok\r\n"
                  b"content-type: application/json\r\n"
                  b"content-length: %d\r\n\r\n%s" % (len(body), body))
        s.recv(1024)
        # SO_LINGER 0: close with a TCP reset while the simulator is still writing.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        time.sleep(1.5)
        assert "Traceback" not in capfd.readouterr().err
        try:
            raise ValueError("a real bug in a handler")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 1))
        err = capfd.readouterr().err
        assert "Traceback" in err and "a real bug in a handler" in err
        assert ConnectionResetError in SimServer.QUIET and ValueError not in SimServer.QUIET
    finally:
        server.shutdown()
        server.server_close()
