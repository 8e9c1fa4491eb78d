#!/usr/bin/env sh
# Stream a chat completion through bedrock-bridge (make run listens on 127.0.0.1:10000).
curl -sN "${BASE_URL:-http://127.0.0.1:10000/v1}/chat/completions" \
  -H 'content-type: application/json' \
  -d '{"model": "'"${MODEL:-claude}"'", "stream": true, "stream_options": {"include_usage": true},
       "messages": [{"role": "user", "content": "Why is the sky blue?"}]}'
