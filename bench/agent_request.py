"""Large agent requests for the request-size benchmarks: what a Claude Code / Codex turn looks
like (a long system prompt, dozens of tools with JSON schemas, a long tool-use history), as an
Anthropic Messages body or an OpenAI chat body of about a given size. Deterministic.

    python3 bench/agent_request.py --out DIR     # writes {chat,messages}-{30,300}k.json
"""

import argparse
import json
from pathlib import Path

WORDS = ("the file system tool returns a list of paths that match the pattern and the agent reads "
         "each one before it edits code so that every change is checked against the tests").split()


def text(n_chars: int, seed: int) -> str:
    out, i = [], seed
    while sum(len(w) + 1 for w in out) < n_chars:
        out.append(WORDS[i % len(WORDS)])
        i = i * 7 + 3
    return " ".join(out)


def tools(n: int):
    return [{
        "name": f"tool_{i}",
        "description": text(600, i),
        "input_schema": {"type": "object", "properties": {
            "path": {"type": "string", "description": text(80, i + 1)},
            "pattern": {"type": "string", "description": text(60, i + 2)},
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
            "flags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}},
        }, "required": ["path"]},
    } for i in range(n)]


def messages_body(size: int) -> dict:
    """An Anthropic Messages request of about `size` bytes: system ~8%, tools ~25%, history."""
    body = {"model": "claude", "max_tokens": 4096, "stream": True,
            "system": [{"type": "text", "text": text(size // 12, 1), "cache_control": {"type": "ephemeral"}}],
            "tools": tools(max(4, size // 4 // 1100)), "messages": [{"role": "user", "content": "Fix the failing test."}]}
    turn = 0
    while len(json.dumps(body)) < size:
        turn += 1
        tid = f"toolu_{turn:04d}"
        body["messages"].append({"role": "assistant", "content": [
            {"type": "text", "text": text(200, turn)},
            {"type": "tool_use", "id": tid, "name": f"tool_{turn % 4}", "input": {"path": f"src/file_{turn}.rs", "limit": 200}}]})
        body["messages"].append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": tid, "content": [{"type": "text", "text": text(1500, turn + 5)}]}]})
    body["messages"].append({"role": "assistant", "content": "Running the tests again."})
    body["messages"].append({"role": "user", "content": "Go on."})
    return body


def chat_body(size: int) -> dict:
    """The same conversation as an OpenAI chat completions request."""
    m = messages_body(size)
    out = [{"role": "system", "content": m["system"][0]["text"]}]
    for msg in m["messages"]:
        if isinstance(msg["content"], str):
            out.append({"role": msg["role"], "content": msg["content"]})
        elif msg["role"] == "assistant":
            use = msg["content"][1]
            out.append({"role": "assistant", "content": msg["content"][0]["text"], "tool_calls": [
                {"id": use["id"], "type": "function",
                 "function": {"name": use["name"], "arguments": json.dumps(use["input"])}}]})
        else:
            r = msg["content"][0]
            out.append({"role": "tool", "tool_call_id": r["tool_use_id"], "content": r["content"][0]["text"]})
    fns = [{"type": "function", "function": {"name": t["name"], "description": t["description"],
                                             "parameters": t["input_schema"]}} for t in m["tools"]]
    return {"model": "claude", "max_tokens": 4096, "stream": True, "messages": out, "tools": fns}


CASES = {f"{door}-{k}k": (door, k * 1024) for door in ("chat", "messages") for k in (30, 300)}
PATHS = {"chat": "/v1/chat/completions", "messages": "/v1/messages"}


def body(door: str, size: int) -> bytes:
    return json.dumps(chat_body(size) if door == "chat" else messages_body(size)).encode()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    for name, (door, size) in CASES.items():
        b = body(door, size)
        (Path(args.out) / f"{name}.json").write_bytes(b)
        print(f"{name}: {len(b)} bytes -> {PATHS[door]}")
