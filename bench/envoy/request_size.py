"""Request-size case of the in-Envoy benchmark: Envoy's CPU per request with bedrock-bridge against
a no-op wasm filter forwarding the same body, for agent-sized requests (bench/agent_request.py:
a long system prompt, dozens of tools, a long tool history) of 30 and 300 KiB, chat completions
and Anthropic Messages.

    make bench-envoy-requests   # builds the no-op filter, then runs this

The filter Envoy gets the client's request (`/v1/chat/completions` or `/v1/messages`); the no-op
Envoy gets the same bytes posted to the Bedrock path (its filter reads each response chunk and
writes it back, and lets the request through). Both reach the fake Bedrock (upstream.py), which
answers a short ConverseStream (3 frames). Requests are sequential on one keep-alive connection
per Envoy, alternating filter / no-op (and `--compare`, another module such as main's), so all see
the same machine load; Envoy's CPU is the
on-CPU time of all its threads (/proc/PID/task/*/schedstat) around each batch. Added = filter -
no-op, per request, median over batches. With --upstream, envoy/failover.yaml as shipped (the module
as an upstream filter) joins the rotation, and upstream - filter is reported per batch too.
"""

import argparse
import http.client
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run  # noqa: E402
from agent_request import CASES, PATHS, body  # noqa: E402


def post(conn, path, data, headers):
    conn.request("POST", path, body=data, headers=headers)
    r = conn.getresponse()
    out = r.read()
    if r.status != 200:
        raise RuntimeError(f"{path}: {r.status} {out[:300]!r}")
    return out


def batch(envoy, conn, path, data, headers, n):
    """Envoy's CPU seconds for `n` sequential requests."""
    before = run.cpu(run.tree(envoy.pid))["sched_s"]
    for _ in range(n):
        post(conn, path, data, headers)
    return run.cpu(run.tree(envoy.pid))["sched_s"] - before


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--null-wasm", required=True, help="the no-op filter module (bench/envoy/nullfilter)")
    ap.add_argument("--wasm", default=str(run.WASM))
    ap.add_argument("--compare", help="another filter module (e.g. main's), run in the same rotation")
    ap.add_argument("--upstream", action="store_true",
                    help="also the module as an upstream filter (envoy/failover.yaml as shipped), in the same rotation")
    ap.add_argument("--api-key", action="store_true",
                    help="also the module signing with a Bedrock API key (no SigV4, so no SHA-256 of the body)")
    ap.add_argument("--envoy-signer", action="store_true",
                    help="also the module with signing: envoy, Envoy's aws_request_signing filter signing after it "
                         "(the SHA-256 of the body in Envoy's native code)")
    ap.add_argument("--batches", type=int, default=7)
    ap.add_argument("--per-batch", type=int, default=20)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    t0 = time.monotonic_ns()
    up = run.Upstream(t0)
    up.ctl("/__bench/scenario", {"reasoning": 0, "content": 1, "interval_us": 100, "burst": 10})
    mods = {"filter": Path(args.wasm)}
    if args.compare:
        mods["compare"] = Path(args.compare)
    envoys = {k: run.EnvoyProc(True, up.port, f"requests-{k}", wasm=p) for k, p in mods.items()}
    if args.api_key:
        key_config = dict(run.FILTER_CONFIG, credentials={"bearer_token": "bench-api-key"})
        envoys["api_key"] = run.EnvoyProc(True, up.port, "requests-api-key", wasm=Path(args.wasm),
                                          filter_config=key_config)
    if args.envoy_signer:
        envoys["envoy_signer"] = run.EnvoyProc(True, up.port, "requests-envoy-signer", wasm=Path(args.wasm),
                                               envoy_signer=True)
    if args.upstream:
        envoys["upstream"] = run.FailoverEnvoyProc(up.port, "requests-upstream", wasm=Path(args.wasm))
    null = run.EnvoyProc(True, up.port, "requests-null", wasm=Path(args.null_wasm))
    es_path = f"/model/{run.MODEL_ID}/converse-stream"
    results = {}
    try:
        conns = {k: http.client.HTTPConnection("127.0.0.1", e.port, timeout=60) for k, e in envoys.items()}
        cn = http.client.HTTPConnection("127.0.0.1", null.port, timeout=60)
        for name, (door, size) in CASES.items():
            data = body(door, size)
            headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
            for _ in range(3):  # warm-up
                for c in conns.values():
                    post(c, PATHS[door], data, headers)
                post(cn, es_path, data, headers)
            ms = {k: [] for k in [*envoys, "noop"]}
            for _ in range(args.batches):  # alternating: each module, then the no-op
                for k, e in envoys.items():
                    ms[k].append(batch(e, conns[k], PATHS[door], data, headers, args.per_batch) / args.per_batch * 1e3)
                ms["noop"].append(batch(null, cn, es_path, data, headers, args.per_batch) / args.per_batch * 1e3)
            r = {"bytes": len(data), "noop_ms": round(statistics.median(ms["noop"]), 3)}
            for k in envoys:
                added = [f - n for f, n in zip(ms[k], ms["noop"])]
                r[f"{k}_ms"] = round(statistics.median(ms[k]), 3)
                r[f"{k}_added_ms"] = round(statistics.median(added), 3)
                r[f"{k}_added_ms_per_batch"] = [round(a, 3) for a in added]
            if args.upstream:  # the same module, upstream − listener placement, per batch
                diff = [u - f for u, f in zip(ms["upstream"], ms["filter"])]
                r["upstream_minus_filter_ms"] = round(statistics.median(diff), 3)
                r["upstream_minus_filter_ms_per_batch"] = [round(d, 3) for d in diff]
            results[name] = r
            print(f"{name} ({len(data)} B): no-op {r['noop_ms']} ms; " + "; ".join(
                f"{k} {r[k + '_ms']} ms, added {r[k + '_added_ms']} ms {r[k + '_added_ms_per_batch']}" for k in envoys)
                + (f"; upstream − filter {r['upstream_minus_filter_ms']} ms {r['upstream_minus_filter_ms_per_batch']}"
                   if args.upstream else ""),
                flush=True)
    finally:
        for e in envoys.values():
            e.stop()
        null.stop()
        up.stop()
    if args.json:
        Path(args.json).write_text(json.dumps({"load_avg": run.os.getloadavg(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
