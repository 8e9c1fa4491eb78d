"""A tool-calling round trip through bedrock-bridge with the official OpenAI SDK."""
import json
import os

from openai import OpenAI

client = OpenAI(base_url=os.environ.get("BASE_URL", "http://127.0.0.1:10000/v1"), api_key="unused")
model = os.environ.get("MODEL", "claude")
tools = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]
messages = [{"role": "user", "content": "What's the weather in Paris?"}]
first = client.chat.completions.create(model=model, messages=messages, tools=tools)
msg = first.choices[0].message
print("finish_reason:", first.choices[0].finish_reason)
if msg.tool_calls:
    messages.append(msg.model_dump(exclude_none=True))
    for call in msg.tool_calls:
        print("tool call:", call.function.name, call.function.arguments)
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 18})})
    final = client.chat.completions.create(model=model, messages=messages, tools=tools)
    print("answer:", final.choices[0].message.content)
else:
    print("answer:", msg.content)
