#!/usr/bin/env python3
"""Write the seed corpus of every fuzz target into fuzz/corpus/<target>/ from tests/fixtures
and the request examples in filter/tests/request.rs.

Each target reads a small control prefix before its data (see the target's doc comment); the
seeds carry one. Run from anywhere: `python3 fuzz/seed_corpus.py`. Afterwards the committed
corpus is the `cargo fuzz cmin` of a long run over these seeds (see fuzz/README.md).
"""

import hashlib
import json
import random
import re
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
OUT = ROOT / "fuzz" / "corpus"


def put(target: str, data: bytes) -> None:
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def frame(headers, payload: bytes) -> bytes:
    h = b""
    for name, value in headers:
        v = value.encode()
        h += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(v)) + v
    total = 16 + len(h) + len(payload)
    prelude = struct.pack(">II", total, len(h))
    m = prelude + struct.pack(">I", zlib.crc32(prelude)) + h + payload
    return m + struct.pack(">I", zlib.crc32(m))


def event(name: str, payload) -> bytes:
    return frame(
        [(":event-type", name), (":content-type", "application/json"), (":message-type", "event")],
        json.dumps(payload, separators=(",", ":")).encode(),
    )


def eventstream_seeds():
    files = sorted(p for p in FIX.rglob("*") if p.suffix in (".bin", ".eventstream"))
    rnd = random.Random(1)
    for p in files:
        body = p.read_bytes()
        # flags: usage + json tool + reasoning "both"; no cuts.
        put("eventstream", bytes([0x0E, 0]) + body)
        # A few cuts, and byte-by-byte replay for small bodies.
        cuts = [rnd.randrange(0, 65536) for _ in range(4)]
        put("eventstream", bytes([0x05, 0x84]) + b"".join(struct.pack("<H", c) for c in cuts) + body)
    # A synthetic stream with every event kind, including the response_format tool.
    synth = b"".join(
        [
            event("messageStart", {"role": "assistant"}),
            event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "hm"}}}),
            event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "c2ln"}}}),
            event("contentBlockStop", {"contentBlockIndex": 0}),
            event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"reasoningContent": {"redactedContent": "eA=="}}}),
            event("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"text": "Hi \"there\"\n"}}),
            event("contentBlockStart", {"contentBlockIndex": 3, "start": {"toolUse": {"toolUseId": "t1", "name": "f"}}}),
            event("contentBlockDelta", {"contentBlockIndex": 3, "delta": {"toolUse": {"input": "{\"a\":"}}}),
            event("contentBlockDelta", {"contentBlockIndex": 3, "delta": {"toolUse": {"input": "1}"}}}),
            event("contentBlockStart", {"contentBlockIndex": 4, "start": {"toolUse": {"toolUseId": "t2", "name": "json_response"}}}),
            event("contentBlockDelta", {"contentBlockIndex": 4, "delta": {"toolUse": {"input": "{}"}}}),
            event("messageStop", {"stopReason": "tool_use"}),
            event("metadata", {"usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3, "cacheReadInputTokens": 4}}),
        ]
    )
    put("eventstream", bytes([0x0E, 0]) + synth)
    for ex in ["throttlingException", "modelStreamErrorException", "internalServerException", "validationException"]:
        f = frame([(":message-type", "exception"), (":exception-type", ex), (":content-type", "application/json")],
                  b'{"message":"nope"}')
        put("eventstream", bytes([0x00, 0]) + event("messageStart", {"role": "assistant"}) + f)
    f = frame([(":message-type", "error"), (":error-code", "InternalFailure"), (":error-message", "boom")], b"")
    put("eventstream", bytes([0x00, 0]) + f)


def stream_events_seeds():
    rnd = random.Random(2)
    for n in (16, 64, 256, 1024, 4096):
        for _ in range(4):
            put("stream_events", bytes(rnd.randrange(256) for _ in range(n)))


def json_macro_bodies(src: str):
    """The JSON objects written as `json!({...})` in a Rust test file (those that are plain JSON
    once `user("x")` is expanded)."""
    i = 0
    while True:
        i = src.find("json!(", i)
        if i < 0:
            return
        j = i + len("json!(")
        depth, k = 1, j
        in_str = False
        while k < len(src) and depth:
            c = src[k]
            if in_str:
                if c == "\\":
                    k += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            k += 1
        text = src[j : k - 1]
        i = k
        text = re.sub(r'user\("((?:[^"\\]|\\.)*)"\)', r'{"role": "user", "content": "\1"}', text)
        text = re.sub(r",(\s*[}\]])", r"\1", text)
        try:
            v = json.loads(text)
        except ValueError:
            continue
        if isinstance(v, dict):
            yield v


def request_seeds():
    src = (ROOT / "filter" / "tests" / "request.rs").read_text()
    bodies = list(json_macro_bodies(src))
    tools = [
        {"type": "function", "function": {"name": "get_weather", "description": "w",
                                          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
    ]
    bodies.append({"model": "claude", "messages": [{"role": "user", "content": "a"}], "tools": tools,
                   "tool_choice": "required", "stream": True, "stream_options": {"include_usage": True}})
    bodies.append({"model": "oss", "messages": [{"role": "user", "content": "a"}], "stream": True})
    bodies.append({"model": "claude", "messages": [{"role": "user", "content": "a"}],
                   "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}})
    for b in bodies:
        if "model" not in b and "messages" not in b:
            continue
        raw = json.dumps(b).encode()
        for sel in (0, 1, 2, 3):
            put("request", bytes([sel]) + raw)
        put("json", raw)
        put("json", json.dumps(b, indent=1, ensure_ascii=False).encode())
    rnd = random.Random(3)
    for n in (8, 32, 128, 512):
        for sel in (4, 5, 6, 7):
            put("request", bytes([sel]) + bytes(rnd.randrange(256) for _ in range(n)))


def response_seeds():
    for p in sorted(FIX.rglob("*.json")):
        if p.name.endswith(".meta.json") or p.name in ("INDEX.json", "expected.json", "SOURCE.json"):
            continue
        if "aws-sdk-go-decoded" in p.parts or "errors" in p.parts:
            continue
        body = p.read_bytes()
        for sel in (0x00, 0x05, 0x19):
            put("response", bytes([sel]) + body)
    for p in sorted((FIX / "bedrock-recordings" / "errors").glob("*.body.json")):
        meta = json.loads(p.with_name(p.name.replace(".body.json", ".meta.json")).read_text())
        status = meta["response"]["status"]
        header = meta["response"]["headers"].get("x-amzn-ErrorType", "").encode()[:126]
        body = p.read_bytes()
        put("response", bytes([2]) + struct.pack("<H", status) + bytes([len(header)]) + header + body)
        put("response", bytes([2]) + struct.pack("<H", status) + bytes([0x7F]) + body)
    for name, status in [("ThrottlingException", 429), ("ResourceNotFoundException", 404), ("", 502)]:
        h = name.encode()
        put("response", bytes([2]) + struct.pack("<H", status) + bytes([len(h)]) + h + b'{"message":"input is too long"}')
    for name in ["throttlingException", "modelStreamErrorException", "internalServerException", "validationException"]:
        h = name.encode()
        put("response", bytes([3, len(h)]) + h + bytes([0xFF]) + b'{"message":"m","originalStatusCode":500}')
        put("response", bytes([3, len(h)]) + h + bytes([4]) + b"boom" + b"")


def config_seeds():
    configs = [
        b"",
        b"{}",
        b'{"region":"us-east-1","models":{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0"}}',
        b'{"region":"us-east-1","credentials":{"bearer_token":"t"}}',
        b'{"region":"us-east-1","endpoint":"https://Bedrock-Runtime.us-east-1.amazonaws.com:443/",'
        b'"credentials":{"access_key_id":"AKIDEXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG","session_token":"tok"}}',
        b'{"region":"eu-west-1","credentials":{"bearer_token":"t"},"unsupported_params":"drop","reasoning_field":"both",'
        b'"unknown_paths":"passthrough","models":{"oss":{"id":"openai.gpt-oss-120b-1:0","api":"openai"},'
        b'"arn":"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123","q":{"id":"qwen.qwen3-32b-v1:0"}},'
        b'"guardrail":{"identifier":"g","version":"1","trace":"enabled_full","stream_processing_mode":"sync"},'
        b'"limits":{"max_request_bytes":1,"max_frame_bytes":16,"max_frame_headers":0,"max_messages":1,"max_tools":0,'
        b'"max_response_bytes":1}}',
        b'{"region":"us-east-1","reasoning_field":"reasoning_content","models":{"":"x"}}',
        b'{"region":"us east 1"}',
        b'{"region":"us-east-1","credentials":{"bearer_token":"t","access_key_id":"a"}}',
    ]
    for c in configs:
        for sel in (0, 1):
            put("config", bytes([sel]) + c)


if __name__ == "__main__":
    eventstream_seeds()
    stream_events_seeds()
    request_seeds()
    response_seeds()
    config_seeds()
    for d in sorted(OUT.iterdir()):
        files = list(d.iterdir())
        print(f"{d.name}: {len(files)} files, {sum(f.stat().st_size for f in files)} bytes")
