"""Stream a reasoning answer through bedrock-bridge with the official OpenAI SDK.

    make run                      # in another terminal
    .venv/bin/python examples/openai_stream.py "Why is the sky blue?"
"""
import os
import sys

from openai import OpenAI

client = OpenAI(base_url=os.environ.get("BASE_URL", "http://127.0.0.1:10000/v1"), api_key="unused")
question = " ".join(sys.argv[1:]) or "Why is the sky blue? Answer in two sentences."
stream = client.chat.completions.create(
    model=os.environ.get("MODEL", "claude"),
    messages=[{"role": "user", "content": question}],
    reasoning_effort="low",
    stream=True,
    stream_options={"include_usage": True},
)
in_reasoning = False
for chunk in stream:
    if chunk.usage:
        print(f"\n\n[usage] {chunk.usage.prompt_tokens} prompt + {chunk.usage.completion_tokens} completion tokens")
    if not chunk.choices:
        continue
    delta = chunk.choices[0].delta
    reasoning = (delta.model_extra or {}).get("reasoning")
    if reasoning:
        if not in_reasoning:
            print("[reasoning] ", end="")
            in_reasoning = True
        print(reasoning, end="", flush=True)
    if delta.content:
        if in_reasoning:
            print("\n\n[answer] ", end="")
            in_reasoning = False
        print(delta.content, end="", flush=True)
    if chunk.choices[0].finish_reason:
        print(f"\n[finish_reason] {chunk.choices[0].finish_reason}")
