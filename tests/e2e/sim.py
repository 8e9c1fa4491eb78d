"""A Bedrock Runtime simulator for end-to-end tests and `make run`.

It authenticates every request the way AWS does — SigV4 checked by botocore (not our code), or a
Bedrock API key — validates the body against botocore's own `bedrock-runtime` model for
Converse / ConverseStream, and answers in Bedrock's wire format: JSON, or chunked
`application/vnd.amazon.eventstream` with real CRCs.

What it answers is set per model id through an unsigned control API on the same port:
  POST /__sim/scenario  {"model_id", "file" | "raw_hex" | "body", "status", "headers",
                         "chunk_sizes", "frame_delay_ms", "reset_after_bytes", "stall_ms",
                         "as_model", "lax"}
  GET  /__sim/requests  every request received, with whether its signature verified
  POST /__sim/reset     forget scenarios and requests
Model ids without a scenario get an answer generated from the request: reasoning, then
"You said: <last user text>" word by word.

Bedrock's request rules (bedrock_rules.py) are enforced by default, for the model id in the path
or, for a test's made-up id, the real model its scenario names in "as_model". A scenario's "lax"
lists the rules it skips ("*" for all); every refusal is recorded as "refused" with the rule.
"""

import argparse
import base64
import datetime
import http.server
import json
import os
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
import zlib
from pathlib import Path

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials
from botocore.validate import ParamValidator

import bedrock_rules

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SERVICE_MODEL = botocore.session.get_session().get_service_model("bedrock-runtime")


def frame(headers, payload: bytes) -> bytes:
    """One eventstream message with string headers."""
    hb = b""
    for k, v in headers.items():
        kb, vb = k.encode(), v.encode()
        hb += bytes([len(kb)]) + kb + b"\x07" + struct.pack(">H", len(vb)) + vb
    total = 16 + len(hb) + len(payload)
    prelude = struct.pack(">II", total, len(hb))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    msg = prelude + hb + payload
    return msg + struct.pack(">I", zlib.crc32(msg))


def event(kind: str, payload: dict) -> bytes:
    payload = dict(payload, p="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"[: 5 + len(kind) % 20])
    return frame(
        {":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(payload, separators=(",", ":")).encode(),
    )


def split_frames(data: bytes):
    out, pos = [], 0
    while pos + 4 <= len(data):
        n = struct.unpack(">I", data[pos : pos + 4])[0]
        if n < 16:
            break
        out.append(data[pos : pos + n])
        pos += n
    if pos < len(data):
        out.append(data[pos:])
    return out


def last_user_text(body: dict) -> str:
    for m in reversed(body.get("messages", [])):
        if m.get("role") == "user":
            for c in m.get("content", []):
                if "text" in c:
                    return c["text"]
            return "(no text)"
    return ""


# Families whose reasoning comes back as text without a signature (recorded: pydantic-ai cassettes
# test_bedrock_thinking_high_openai_variant, *_deepseek, test_bedrock_moonshotai_tool_call,
# test_bedrock_thinking_high_qwen_variant).
UNSIGNED_REASONING = ("openai.gpt-oss", "deepseek.", "moonshot", "qwen.", "zai.glm")
# Claude models whose thinking display defaults to "omitted" (anthropics/claude-code#49268,
# BerriAI/litellm#25965): from Opus 4.7 on.
OMITTED_BY_DEFAULT = {"claude-opus-4-7", "claude-opus-4-8", "claude-sonnet-5", "claude-opus-5", "claude-mythos-preview",
                      "claude-mythos-5", "claude-fable-5"}


def reasoning_shape(model_id: str, body: dict) -> str:
    """How a generated answer carries its reasoning: "signed" (text deltas then a signature, as the
    Claude recordings), "omitted" (Claude with display omitted: no text, only the signature;
    SYNTHETIC, after the empty-thinking-plus-signature blocks in BerriAI/litellm#25965), or
    "unsigned" (text only, as the gpt-oss / DeepSeek / Kimi / Qwen recordings)."""
    mid = (model_id or "").lower()
    if any(f in mid for f in UNSIGNED_REASONING):
        return "unsigned"
    t = (body.get("additionalModelRequestFields") or {}).get("thinking") or {}
    display = t.get("display") if isinstance(t, dict) else None
    if display is None and bedrock_rules.claude_key(mid) in OMITTED_BY_DEFAULT and t.get("type") == "adaptive":
        display = "omitted"
    return "omitted" if display == "omitted" else "signed"


def reasoning_frames(i: int, text: str, signature: str, shape: str) -> list:
    frames = []
    if shape != "omitted":
        for w in re.findall(r"\S+\s*", text):
            frames.append(event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"reasoningContent": {"text": w}}}))
    if shape != "unsigned":
        frames.append(event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"reasoningContent": {"signature": signature}}}))
    return frames


def generated_stream(body: dict, model_id: str = "") -> list:
    text = last_user_text(body)
    thinking = f"The user wrote {len(text)} characters. I will repeat them back."
    frames = [event("messageStart", {"role": "assistant"})]
    frames += reasoning_frames(0, thinking, "c2lnbmF0dXJl", reasoning_shape(model_id, body))
    frames.append(event("contentBlockStop", {"contentBlockIndex": 0}))
    for w in re.findall(r"\S+\s*|\s+", "You said: " + text):
        frames.append(event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": w}}))
    frames.append(event("contentBlockStop", {"contentBlockIndex": 1}))
    frames.append(event("messageStop", {"stopReason": "end_turn"}))
    usage = {"inputTokens": len(text) // 4 + 1, "outputTokens": len(text) // 4 + 11, "totalTokens": len(text) // 2 + 12}
    frames.append(event("metadata", {"usage": usage, "metrics": {"latencyMs": 42}}))
    return frames


def reasoning_block(text: str, signature: str, shape: str) -> dict:
    rt = {"text": "" if shape == "omitted" else text}
    if shape != "unsigned":
        rt["signature"] = signature
    return {"reasoningContent": {"reasoningText": rt}}


def generated_json(body: dict, model_id: str = "") -> dict:
    text = last_user_text(body)
    usage = {"inputTokens": len(text) // 4 + 1, "outputTokens": len(text) // 4 + 11, "totalTokens": len(text) // 2 + 12}
    return {
        "output": {"message": {"role": "assistant", "content": [
            reasoning_block(f"The user wrote {len(text)} characters.", "c2ln", reasoning_shape(model_id, body)),
            {"text": "You said: " + text},
        ]}},
        "stopReason": "end_turn",
        "usage": usage,
        "metrics": {"latencyMs": 42},
    }


class SignedHeadersAuth(SigV4Auth):
    """botocore's SigV4 over exactly the headers the request says it signed, as AWS does. Plain
    SigV4Auth leaves user-agent out of its own signatures; Envoy's signer includes it."""

    def headers_to_sign(self, request):
        out = HTTPHeaders()
        for name, value in request.headers.items():
            out[name.lower()] = value
        return out
# --- agent mode: a conversation whose user text holds AGENT_MARKER gets a tool loop -------
AGENT_MARKER = "USE_TOOL"


def _sign(text: str) -> str:
    import hashlib
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _args_for(schema: dict) -> dict:
    props = (schema or {}).get("properties") or {}
    out = {}
    for name in (schema or {}).get("required") or list(props):
        t = (props.get(name) or {}).get("type")
        out[name] = 1 if t in ("integer", "number") else True if t == "boolean" else "Paris"
    return out


OMITTED_SIG = "omitted:"


def signature_ok(rt: dict) -> bool:
    """A signature matches its text; an omitted block's (SYNTHETIC "omitted:" form) must come back
    with its text still empty, as the model sent it."""
    sig = rt.get("signature") or ""
    if sig.startswith(OMITTED_SIG):
        return rt.get("text", "") == ""
    return sig == _sign(rt.get("text", ""))


def agent_turn(body: dict, model_id: str = ""):
    """None unless the conversation is in agent mode. Else (error, blocks, stop_reason): with
    thinking on, Bedrock's two thinking rules are enforced (the tool-calling assistant turn must
    start with its reasoning block, and the signature must match its text)."""
    msgs = body.get("messages") or []
    if not any(AGENT_MARKER in c.get("text", "") for m in msgs if m.get("role") == "user" for c in m.get("content", [])):
        return None
    kind = ((body.get("additionalModelRequestFields") or {}).get("thinking") or {}).get("type")
    thinking = kind == "enabled"
    shape = reasoning_shape(model_id, body)
    for m in msgs:
        if m.get("role") != "assistant":
            continue
        for i, c in enumerate(m.get("content", [])):
            rt = (c.get("reasoningContent") or {}).get("reasoningText")
            if rt and rt.get("signature") and not signature_ok(rt):
                return "Invalid signature in thinking block", None, None
        if thinking and m is msgs[-2] and any("toolUse" in c for c in m.get("content", [])):
            if "reasoningContent" not in (m.get("content") or [{}])[0]:
                return ("Expected thinking or redacted_thinking, but found tool_use. When thinking is enabled, a final "
                        "assistant message must start with a thinking block"), None, None
    blocks = []
    last = msgs[-1] if msgs else {}
    results = [c["toolResult"] for c in last.get("content", []) if "toolResult" in c]
    if thinking or kind == "adaptive":
        t = f"Turn {len(msgs)}: " + ("the tool answered." if results else "I need a tool.")
        sig = OMITTED_SIG + _sign(t) if shape == "omitted" else _sign(t)
        blocks.append(reasoning_block(t, sig, shape))
    if results:
        said = " ".join(str(x.get("text", x.get("json", ""))) for r in results for x in r.get("content", []))
        blocks.append({"text": f"The tool said: {said}"})
        return None, blocks, "end_turn"
    tools = [t["toolSpec"] for t in (body.get("toolConfig") or {}).get("tools", []) if "toolSpec" in t]
    if not tools:
        blocks.append({"text": "No tools."})
        return None, blocks, "end_turn"
    spec = tools[0]
    blocks.append({"toolUse": {"toolUseId": f"tooluse_{uuid.uuid4().hex[:12]}", "name": spec["name"],
                               "input": _args_for(spec.get("inputSchema", {}).get("json"))}})
    return None, blocks, "tool_use"


def agent_frames(blocks, stop):
    frames = [event("messageStart", {"role": "assistant"})]
    for i, b in enumerate(blocks):
        if "reasoningContent" in b:
            rt = b["reasoningContent"]["reasoningText"]
            shape = "unsigned" if "signature" not in rt else "omitted" if not rt["text"] else "signed"
            frames += reasoning_frames(i, rt["text"], rt.get("signature", ""), shape)
        elif "text" in b:
            for w in re.findall(r"\S+\s*|\s+", b["text"]):
                frames.append(event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"text": w}}))
        else:
            tu = b["toolUse"]
            frames.append(event("contentBlockStart", {"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": tu["toolUseId"], "name": tu["name"]}}}))
            js = json.dumps(tu["input"])
            for k in range(0, len(js), 7):
                frames.append(event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"toolUse": {"input": js[k:k + 7]}}}))
        frames.append(event("contentBlockStop", {"contentBlockIndex": i}))
    frames.append(event("messageStop", {"stopReason": stop}))
    frames.append(event("metadata", {"usage": {"inputTokens": 20, "outputTokens": 10, "totalTokens": 30}, "metrics": {"latencyMs": 5}}))
    return frames


class Sim:
    # The SigV4 service name requests must be scoped to (sim_mantle.MantleSim: bedrock-mantle).
    service = "bedrock"

    def __init__(self, region="us-east-1", access_key="AKIDEXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                 session_token="FwoGZXIvYXdzEXAMPLETOKEN", bearer_token=None, frame_delay_ms=0):
        self.region = region
        self.creds = Credentials(access_key, secret_key, session_token)
        # Every identity the simulated account accepts, by access key id (add_key: a second
        # identity, or rotated credentials).
        self.keys = {access_key: self.creds}
        # Access keys scoped to another region than `region` (add_key(..., region=)).
        self.key_regions = {}
        self.bearer_token = bearer_token
        self.frame_delay_ms = frame_delay_ms
        self.scenarios = {}
        self.requests = []
        self.lock = threading.Lock()

    def add_key(self, access_key, secret_key, session_token=None, region=None):
        with self.lock:
            self.keys[access_key] = Credentials(access_key, secret_key, session_token)
            if region:
                self.key_regions[access_key] = region

    @staticmethod
    def access_key_of(headers):
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/,]+)/", headers.get("authorization", ""))
        return m.group(1) if m else None

    # --- authentication, exactly as AWS: botocore computes the expected signature ---------
    def check_auth(self, method, raw_path, headers, body):
        auth = headers.get("authorization", "")
        if auth.startswith("Bearer "):
            if self.bearer_token and auth[7:] == self.bearer_token:
                return None
            return 403, "UnrecognizedClientException", "The security token included in the request is invalid."
        if not auth:
            return 403, "MissingAuthenticationTokenException", "Missing Authentication Token"
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                         r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
        if not m:
            return 403, "IncompleteSignatureException", "Authorization header is malformed."
        akid, _date, region, service, signed, signature = m.groups()
        with self.lock:
            creds = self.keys.get(akid)
            key_region = self.key_regions.get(akid, self.region)
        if creds is None:
            return 403, "UnrecognizedClientException", "The security token included in the request is invalid."
        if region != key_region or service != self.service:
            return 403, "InvalidSignatureException", f"Credential should be scoped to a valid region/service ({region}/{service})."
        amz_date = headers.get("x-amz-date", "")
        try:
            t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return 403, "IncompleteSignatureException", "x-amz-date is missing or malformed."
        if abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) > 300:
            return 403, "InvalidSignatureException", "Signature expired: the request time is too far from now."
        if creds.token and headers.get("x-amz-security-token") != creds.token:
            return 403, "UnrecognizedClientException", "The security token included in the request is invalid."
        signed_names = signed.split(";")
        if "host" not in signed_names:
            return 403, "InvalidSignatureException", "host must be signed."
        req = AWSRequest(method=method, url=f"http://{headers.get('host', '')}{raw_path}", data=body,
                         headers={k: headers[k] for k in signed_names if k in headers})
        req.context["timestamp"] = amz_date
        signer = SignedHeadersAuth(creds, self.service, key_region)
        expected = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
        if expected != signature:
            return 403, "InvalidSignatureException", ("The request signature we calculated does not match the signature you provided. "
                                                      "Check your AWS Secret Access Key and signing method.")
        return None

    # --- body validation with botocore's model of the real API -----------------------------
    @staticmethod
    def validate(operation: str, model_id: str, body: bytes, scenario=None):
        """None, or (status, error type, message, rule) as Bedrock would refuse the request."""
        try:
            params = json.loads(body)
        except ValueError as e:
            return 400, "ValidationException", f"Malformed input request: {e}", "json"
        if not isinstance(params, dict):
            return 400, "ValidationException", "Malformed input request: expected an object", "json"
        report = ParamValidator().validate(dict(params, modelId=model_id), SERVICE_MODEL.operation_model(operation).input_shape)
        if report.has_errors():
            return 400, "ValidationException", "1 validation error detected: " + report.generate_report(), "botocore"
        if not params.get("messages"):
            return 400, "ValidationException", "A conversation must start with a user message. Try again with a conversation that starts with a user message.", "first_message_user"
        scenario = scenario or {}
        refusal = bedrock_rules.check(scenario.get("as_model") or model_id, params, scenario.get("lax", ()))
        if refusal:
            return refusal.status, refusal.error_type, refusal.message, refusal.rule
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Frames leave as they are written (no Nagle delay), like a real streaming server.
    disable_nagle_algorithm = True
    sim: Sim = None

    def log_message(self, *args):
        pass

    def _json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-amzn-requestid", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _aws_error(self, status, name, message):
        self._json(status, {"message": message}, {"x-amzn-ErrorType": f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/"})

    def do_GET(self):
        if self.path == "/__sim/requests":
            with self.sim.lock:
                return self._json(200, self.sim.requests)
        self._aws_error(404, "UnknownOperationException", "Unknown operation")

    def _control(self, body) -> bool:
        """Answer the control API (/__sim/scenario, /__sim/reset); False for any other path."""
        if self.path == "/__sim/scenario":
            s = json.loads(body)
            with self.sim.lock:
                self.sim.scenarios[s["model_id"]] = s
        elif self.path == "/__sim/reset":
            with self.sim.lock:
                self.sim.scenarios.clear()
                self.sim.requests.clear()
        else:
            return False
        self._json(200, {"ok": True})
        return True

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self._control(body):
            return

        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path == "/openai/v1/chat/completions":
            return self._openai(headers, body)
        m = re.fullmatch(r"/model/([^/]+)/(converse|converse-stream|invoke|count-tokens)", self.path)
        record = {"method": "POST", "path": self.path, "headers": headers, "body": body.decode("utf-8", "replace")}
        auth_error = self.sim.check_auth("POST", self.path, headers, body)
        record["signature_ok"] = auth_error is None
        record["access_key"] = Sim.access_key_of(headers)
        record["model_id"] = urllib.parse.unquote(m.group(1)) if m else None
        with self.sim.lock:
            self.sim.requests.append(record)
        if auth_error:
            return self._aws_error(*auth_error)
        if not m:
            return self._aws_error(404, "UnknownOperationException", f"Unknown operation {self.path}")
        model_id, op = record["model_id"], m.group(2)
        if op in ("invoke", "count-tokens"):
            return self._invoke(op, model_id, body)
        with self.sim.lock:
            scenario = self.sim.scenarios.get(model_id)
        problem = Sim.validate("ConverseStream" if op == "converse-stream" else "Converse", model_id, body, scenario)
        if problem:
            with self.sim.lock:
                record["refused"] = {"rule": problem[3], "status": problem[0], "message": problem[2]}
            return self._aws_error(*problem[:3])
        parsed = json.loads(body)
        agent = agent_turn(parsed, model_id) if scenario is None else None
        if agent is not None:
            problem, blocks, stop = agent
            if problem:
                return self._aws_error(400, "ValidationException", problem)
            if op == "converse-stream":
                return self._stream(agent_frames(blocks, stop), {})
            return self._json(200, {"output": {"message": {"role": "assistant", "content": blocks}}, "stopReason": stop,
                                    "usage": {"inputTokens": 20, "outputTokens": 10, "totalTokens": 30}, "metrics": {"latencyMs": 5}})
        if scenario is None or not {"file", "raw_hex", "body", "status"} & set(scenario):
            # No scenario, or one that only sets "as_model" / "lax": answers generated from the request.
            if op == "converse-stream":
                return self._stream(generated_stream(parsed, model_id), {"frame_delay_ms": self.sim.frame_delay_ms})
            return self._json(200, generated_json(parsed, model_id))
        return self._scenario(scenario, op)

    def _invoke(self, op, model_id, body):
        """InvokeModel (embedding models) and CountTokens: see sim_invoke.py."""
        import sim_invoke
        with self.sim.lock:
            scenario = self.sim.scenarios.get(model_id)
        if scenario is not None:
            return self._scenario(scenario, op)
        if op == "count-tokens":
            return self._json(*sim_invoke.count_tokens(Sim.validate, model_id, body))
        try:
            req = json.loads(body)
        except ValueError:
            return self._aws_error(400, "ValidationException", "Malformed input request: invalid JSON")
        answer = sim_invoke.embed(model_id, req if isinstance(req, dict) else {})
        if answer is None:
            return self._aws_error(400, "ValidationException", f"The model {model_id} is not served by InvokeModel in this simulator")
        status, obj, headers = answer
        if status != 200:
            return self._aws_error(status, "ValidationException", obj["message"])
        return self._json(200, obj, headers)

    def _openai(self, headers, body):
        """Bedrock's OpenAI-compatible endpoint: same authentication, OpenAI wire format."""
        record = {"method": "POST", "path": self.path, "headers": headers, "body": body.decode("utf-8", "replace")}
        auth_error = self.sim.check_auth("POST", self.path, headers, body)
        record["signature_ok"] = auth_error is None
        try:
            req = json.loads(body)
        except ValueError:
            req = {}
        record["model_id"] = req.get("model")
        with self.sim.lock:
            self.sim.requests.append(record)
        if auth_error:
            return self._aws_error(*auth_error)
        if not isinstance(req.get("model"), str) or not req.get("messages"):
            return self._json(400, {"error": {"message": "model and messages are required", "type": "invalid_request_error", "code": None, "param": None}})
        text = "You said: " + str(req["messages"][-1].get("content"))
        if not req.get("stream"):
            return self._json(200, {"id": "chatcmpl-bedrock", "object": "chat.completion", "created": int(time.time()),
                                    "model": req["model"], "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": text}}],
                                    "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for w in re.findall(r"\S+\s*", text):
            chunk = {"id": "chatcmpl-bedrock", "object": "chat.completion.chunk", "created": int(time.time()), "model": req["model"],
                     "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
            data = b"data: " + json.dumps(chunk).encode() + b"\n\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        done = b"data: [DONE]\n\n"
        self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
        self.wfile.flush()

    def _scenario(self, s, op):
        time.sleep(s.get("stall_ms", 0) / 1000)
        status = s.get("status", 200)
        if "file" in s or "raw_hex" in s:
            data = (FIXTURES / s["file"]).read_bytes() if "file" in s else bytes.fromhex(s["raw_hex"])
        elif isinstance(s.get("body"), (dict, list)):
            data = json.dumps(s["body"]).encode()
        else:
            data = (s.get("body") or "").encode()
        is_stream = data[:1] != b"{" and status == 200 and op == "converse-stream"
        if is_stream:
            return self._stream(split_frames(data), s)
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in s.get("headers", {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, frames, s):
        self.send_response(200)
        self.send_header("content-type", "application/vnd.amazon.eventstream")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("x-amzn-requestid", str(uuid.uuid4()))
        self.end_headers()
        delay = s.get("frame_delay_ms", 0) / 1000
        sizes = s.get("chunk_sizes")
        reset_after = s.get("reset_after_bytes")
        if sizes:
            data, pieces, i = b"".join(frames), [], 0
            while data:
                n = sizes[i % len(sizes)]
                pieces.append(data[:n])
                data, i = data[n:], i + 1
        else:
            pieces = frames
        sent = 0
        for p in pieces:
            if reset_after is not None and sent + len(p) > reset_after:
                p = p[: reset_after - sent]
                if p:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
                self.wfile.flush()
                # A real reset now: linger 0 and close the descriptor itself (rfile still holds a
                # reference to the socket object, so closing that would wait for the handler).
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                os.close(self.connection.detach())
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
            self.wfile.flush()
            sent += len(p)
            if delay:
                time.sleep(delay)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class SimServer(http.server.ThreadingHTTPServer):
    """The simulator's server: a client (Envoy) that resets or closes a connection while an
    answer is being written is an expected outcome of many tests, not an error: no traceback for
    exactly those. Every other exception is printed as before."""

    QUIET = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], self.QUIET):
            return
        super().handle_error(request, client_address)


def start_sim(port=0, sim_class=None, handler_class=None, **kwargs):
    """Serve a Sim (or `sim_class`, with `handler_class`: sim_mantle) on 127.0.0.1:`port`."""
    sim = (sim_class or Sim)(**kwargs)
    handler = type("BoundHandler", (handler_class or Handler,), {"sim": sim})
    server = SimServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1], sim


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--frame-delay-ms", type=int, default=0)
    args = ap.parse_args()
    server, port, _ = start_sim(args.port, frame_delay_ms=args.frame_delay_ms)
    if args.port_file:
        Path(args.port_file).write_text(str(port))
    print(f"bedrock simulator on 127.0.0.1:{port}", file=sys.stderr)
    threading.Event().wait()


if __name__ == "__main__":
    main()
