#!/usr/bin/env python3
"""Where Envoy's CPU per frame goes, with and without the filter: `perf record` (cpu-clock
sampling, no hardware counters needed) on each Envoy while the benchmark's streams run, then
the samples split by where they landed: `[JIT]` (V8's compiled wasm: the module's own code and the
wrappers around each call), `envoy` (Envoy's C++, V8's runtime and the proxy-wasm host), the
kernel and libc. Every Envoy carries the same streams at the same time (paired, as in run.py).

    .venv/bin/python bench/envoy/profile.py                       # filter, no-op filter, passthrough
    .venv/bin/python bench/envoy/profile.py --wasm2 other.wasm    # and a second build, paired
    .venv/bin/python bench/envoy/profile.py --streams 1 --interval-us 1000 --burst 1

Needs `perf` (Debian: linux-perf) and the no-op module (`make bench-v8` builds it). perf adds its
own overhead to every Envoy alike; compare the rows of one run, not runs of different days.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run  # noqa: E402  (the benchmark's processes and measurement)

NULL = run.ROOT / "target/nullfilter/wasm32-wasip1/release/nullfilter.wasm"


def split(data: Path, us_per_frame: float) -> dict:
    """Sample shares per DSO of one perf.data, as µs per frame."""
    out = subprocess.run(["perf", "report", "-i", str(data), "--sort", "dso", "--stdio"],
                         capture_output=True, text=True).stdout
    shares = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith("%") and not line.startswith("#"):
            dso = "JIT" if parts[1] == "[JIT]" else parts[1].strip("[]")
            shares[dso] = shares.get(dso, 0.0) + float(parts[0].rstrip("%")) * us_per_frame / 100
    return shares


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wasm", default=str(run.WASM))
    ap.add_argument("--wasm2", help="a second filter build, run paired with the first")
    ap.add_argument("--null", default=str(NULL))
    ap.add_argument("--streams", type=int, default=64)
    ap.add_argument("--content", type=int, default=2000, help="text deltas per stream")
    ap.add_argument("--interval-us", type=int, default=50000)
    ap.add_argument("--burst", type=int, default=5)
    ap.add_argument("--no-passthrough", action="store_true")
    ap.add_argument("--out", default=str(run.ART / "profile"))
    a = ap.parse_args()
    if not shutil.which("perf"):
        sys.exit("perf is missing (Debian: apt-get install linux-perf)")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    systems = [("filter", Path(a.wasm))] + ([("filter2", Path(a.wasm2))] if a.wasm2 else [])
    systems += [("null-wasm", Path(a.null))] + ([] if a.no_passthrough else [("passthrough", None)])
    t0 = time.monotonic_ns()
    up = run.Upstream(t0)
    envoys, perfs = [], []
    try:
        sse_path, es_path = "/v1/chat/completions", f"/model/{run.MODEL_ID}/converse-stream"
        body = run.chat_body()
        es_body = json.dumps({"messages": [{"role": "user", "content": [{"text": "x"}]}]}).encode()
        targets = []
        for name, wasm in systems:
            e = run.EnvoyProc(wasm is not None, up.port, f"profile-{name}", wasm=wasm or run.WASM)
            envoys.append(e)
            kind, path, b = ("sse", sse_path, body) if name.startswith("filter") else ("es", es_path, es_body)
            run.warm(e.port, kind, path, b, up, t0)
            targets.append({"label": name, "system": name, "pid": e.pid, "port": e.port, "kind": kind,
                            "path": path, "body": b})
        for t in targets:
            perfs.append(subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-p",
                                           str(t["pid"]), "-o", str(out / f"{t['label']}.data")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        scenario = {"reasoning": 20, "content": a.content, "interval_us": a.interval_us, "burst": a.burst}
        runs = run.measure(targets, up, scenario, a.streams, a.interval_us * 1000 // a.streams, t0, ttft_probes=0)
    finally:
        for p in perfs:
            p.send_signal(2)
            p.wait()
        for e in envoys:
            e.stop()
        up.stop()
    rows = []
    for r in runs:
        s = split(out / f"{r['label']}.data", r["cpu_us_per_frame"])
        rows.append((r["label"], r["cpu_us_per_frame"], s))
    null_jit = next((s.get("JIT", 0) for label, _, s in rows if label == "null-wasm"), 0)
    print(f"\n{a.streams} streams, bursts of {a.burst} every {a.interval_us} µs, load {os.getloadavg()[0]:.2f}; "
          "Envoy CPU per frame (µs), split by where perf's samples landed:")
    print(f"{'':12} {'total':>7} {'JIT':>6} {'envoy':>6} {'kernel':>7} {'libc':>6}  JIT minus the no-op's")
    for label, total, s in rows:
        own = f"{s.get('JIT', 0) - null_jit:6.2f}" if label.startswith("filter") else ""
        print(f"{label:12} {total:7.2f} {s.get('JIT', 0):6.2f} {s.get('envoy', 0):6.2f} "
              f"{s.get('kernel.kallsyms', 0):7.2f} {s.get('libc.so.6', 0):6.2f}  {own}")


if __name__ == "__main__":
    main()
