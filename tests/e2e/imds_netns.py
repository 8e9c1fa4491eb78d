"""Instance-profile credentials (IMDSv2) for Envoy's signer, inside a network namespace of the
test's own (run by test_credentials.py as `unshare -n python imds_netns.py`): 169.254.169.254 is
added to that namespace's loopback, an IMDSv2 server answers there, and the simulator and Envoy run
in the same namespace. Prints one JSON line with what happened; the test asserts on it."""

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openai  # noqa: E402

from harness import Envoy, aws_signer  # noqa: E402
from sim import start_sim  # noqa: E402

ROLE = "bedrock-bridge-node-role"
KEY = ("ASIAINSTANCEPROFILE01", "instance/profile/secret", "instance-profile-session-token")
seen = {"token_puts": 0, "unauthorised_gets": 0, "creds_gets": 0}


class Imds(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *a):
        sys.stderr.write("imds: " + (fmt % a) + "\n")

    def _send(self, status, body: bytes, ctype="text/plain"):
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
            seen["token_puts"] += 1
            return self._send(200, b"imds-session-token")
        self._send(400, b"")

    def do_GET(self):
        # IMDSv2 only: every GET needs the session token.
        if self.headers.get("x-aws-ec2-metadata-token") != "imds-session-token":
            seen["unauthorised_gets"] += 1
            return self._send(401, b"")
        base = "/latest/meta-data/iam/security-credentials"
        path = self.path.rstrip("/")
        if path == base:
            return self._send(200, ROLE.encode())
        if path == base + "/" + ROLE:
            seen["creds_gets"] += 1
            exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            return self._send(200, json.dumps({
                "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": KEY[0], "SecretAccessKey": KEY[1],
                "Token": KEY[2], "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode(), "application/json")
        self._send(404, b"")


def main():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", "169.254.169.254/32", "dev", "lo"], check=True)
    imds = http.server.ThreadingHTTPServer(("169.254.169.254", 80), Imds)
    threading.Thread(target=imds.serve_forever, daemon=True).start()
    server, port, sim = start_sim(region="us-east-1", access_key=KEY[0], secret_key=KEY[1], session_token=KEY[2])
    home = tempfile.mkdtemp()
    env = {k: "" for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                           "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED"]}
    env.update(HOME=home, AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, "none"), AWS_CONFIG_FILE=os.path.join(home, "none"))
    e = Envoy({"region": "us-east-1", "signing": "envoy", "models": {"claude": "us.anthropic.claude-sonnet-4-20250514-v1:0"}},
              upstream=("127.0.0.1", port), name="imds", signer=aws_signer("us-east-1"), env=env)
    try:
        client = openai.OpenAI(base_url=e.base_url, api_key="x", max_retries=2, timeout=30)
        r = client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "ping"}])
        reqs = list(sim.requests)
        print(json.dumps({"content": r.choices[0].message.content, "signature_ok": [q["signature_ok"] for q in reqs],
                          "access_keys": [q["access_key"] for q in reqs], **seen}))
    finally:
        e.stop()
        server.shutdown()
        imds.shutdown()


if __name__ == "__main__":
    main()
