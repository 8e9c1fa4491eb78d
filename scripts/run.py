"""`make run`: Envoy + bedrock-bridge on 127.0.0.1:$PORT (default 10000).

Without AWS credentials in the environment it starts the local Bedrock simulator (which checks
every signature with botocore). With AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
or AWS_BEARER_TOKEN_BEDROCK set, Envoy talks to real Bedrock in AWS_REGION (default us-east-1)
over TLS; the credentials reach the filter through Envoy's host_env_keys, never a file.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from harness import Envoy  # noqa: E402
from sim import start_sim  # noqa: E402


def profile_prefix(region: str) -> str:
    return {"us": "us", "eu": "eu", "ap": "apac"}.get(region.split("-")[0], "us")


def main():
    port = int(os.environ.get("PORT", "10000"))
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    real = bool(os.environ.get("AWS_BEARER_TOKEN_BEDROCK")) or bool(
        os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"))
    p = profile_prefix(region)
    models = {
        "claude": f"{p}.anthropic.claude-sonnet-4-20250514-v1:0",
        "claude-haiku": f"{p}.anthropic.claude-3-5-haiku-20241022-v1:0",
        "nova": f"{p}.amazon.nova-lite-v1:0",
        "gpt-oss": "openai.gpt-oss-120b-1:0",
    }
    if real:
        cfg = {"region": region, "models": models}  # credentials come from the environment
        envoy = Envoy(cfg, upstream=None, port=port, name="run", region=region, route_timeout="300s")
        target = f"real Bedrock in {region} (credentials from the environment)"
    else:
        _, sim_port, _ = start_sim(region=region, frame_delay_ms=int(os.environ.get("SIM_FRAME_DELAY_MS", "40")))
        cfg = {"region": region, "models": models,
               "credentials": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                               "session_token": "FwoGZXIvYXdzEXAMPLETOKEN"}}
        envoy = Envoy(cfg, upstream=("127.0.0.1", sim_port), port=port, name="run")
        target = f"the local Bedrock simulator on 127.0.0.1:{sim_port} (set AWS credentials for real Bedrock)"
    print(f"""
bedrock-bridge: Envoy on http://127.0.0.1:{port}/v1 -> {target}
  models: {', '.join(models)}  (any other name is sent to Bedrock as a model id)
  Envoy log: {envoy.log_path}

  curl -N http://127.0.0.1:{port}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{{"model":"claude","stream":true,"messages":[{{"role":"user","content":"Why is the sky blue?"}}]}}'

  BASE_URL=http://127.0.0.1:{port}/v1 {sys.executable} examples/openai_stream.py

Ctrl-C stops.""", flush=True)
    try:
        while envoy.alive():
            time.sleep(0.5)
        print(envoy.logs()[-3000:], file=sys.stderr)
        sys.exit("envoy exited")
    except KeyboardInterrupt:
        pass
    finally:
        envoy.stop()


if __name__ == "__main__":
    main()
