"""In-Envoy benchmark of bedrock-bridge: one command, `make bench-envoy`
(= `.venv/bin/python bench/envoy/run.py`). See bench/envoy/README.md.

Runs, against one fast paced fake Bedrock (upstream.py, separate process):
  filter       Envoy 1.40 + dist/bedrock_bridge.wasm, client reads OpenAI SSE
  passthrough  Envoy 1.40 without the wasm filter, client reads the raw eventstream
  upstream     (--upstream) envoy/failover.yaml as shipped: the module as an upstream filter of
               the cluster, client reads OpenAI SSE
  litellm      LiteLLM proxy (bedrock/converse route, 1 worker), client reads OpenAI SSE
each at 1 and 64 concurrent streams (LiteLLM fewer if it is slow), plus one stream through the
official openai SDK for the filter and LiteLLM. Writes bench/envoy/results.{md,json}.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import clients  # noqa: E402
from harness import Envoy, aws_signer, envoy_binary, render_config  # noqa: E402

WASM = ROOT / "dist" / "bedrock_bridge.wasm"
ART = HERE / ".artifacts"
LITELLM_VENV = ROOT / "bench" / ".venv-litellm"
REGION = "us-east-1"
AKID, SECRET, TOKEN = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLETOKEN"
MODEL_ID = "us.anthropic.claude-sonnet-4-20250514-v1:0"
FILTER_CONFIG = {"region": REGION, "models": {"claude": MODEL_ID},
                 "credentials": {"access_key_id": AKID, "secret_access_key": SECRET, "session_token": TOKEN}}
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- /proc --------------------------------------------------------------------------------------

def tree(pid: int) -> list:
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def cpu(pids) -> dict:
    """utime+stime (/proc/pid/stat, clock ticks) and on-CPU ns (/proc/pid/task/*/schedstat)."""
    ticks, ns = 0, 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/schedstat") as f:
                    ns += int(f.read().split()[0])
        except OSError:
            pass
    return {"stat_s": ticks / CLK_TCK, "sched_s": ns / 1e9}


def status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def wasm_memory_kib(pid: int) -> dict:
    """The wasm VMs' linear memories in a V8 Envoy: each is the read-write mapping right below
    its ~8 GiB PROT_NONE guard reservation. Linear memory only grows (64 KiB pages), so after a
    run its size is the high-water mark of the filter's heap; Rss is what was touched."""
    maps, cur = [], None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                parts = line.split()
                if not parts[0].endswith(":") and "-" in parts[0]:
                    a, b = (int(x, 16) for x in parts[0].split("-"))
                    cur = {"a": a, "b": b, "perm": parts[1], "rss": 0}
                    maps.append(cur)
                elif parts[0] == "Rss:" and cur is not None:
                    cur["rss"] = int(parts[1])
    except OSError:
        return {"vms": 0, "size_kib": 0, "rss_kib": 0}
    mems = [m for m, g in zip(maps, maps[1:])
            if m["perm"].startswith("rw") and m["b"] == g["a"] and g["perm"] == "---p" and g["b"] - g["a"] >= 4 << 30]
    return {"vms": len(mems), "size_kib": sum((m["b"] - m["a"]) // 1024 for m in mems),
            "rss_kib": sum(m["rss"] for m in mems)}


def system_busy_s() -> float:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v[:8]) - idle) / CLK_TCK


def top_others(exclude: set, n=4) -> list:
    """The busiest other processes right now (name, %CPU since start is useless: sample 0.5 s)."""
    def snap():
        out = {}
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) not in exclude:
                try:
                    with open(f"/proc/{d}/stat") as f:
                        s = f.read()
                    name = s[s.index("(") + 1: s.rindex(")")]
                    fl = s.rsplit(")", 1)[1].split()
                    out[int(d)] = (name, int(fl[11]) + int(fl[12]))
                except (OSError, ValueError):
                    pass
        return out
    a = snap()
    time.sleep(0.5)
    b = snap()
    busy = [(b[p][0], (b[p][1] - a[p][1]) / CLK_TCK / 0.5 * 100) for p in b if p in a and b[p][1] > a[p][1]]
    return [f"{name} {pct:.0f}%" for name, pct in sorted(busy, key=lambda x: -x[1])[:n]]


class Sampler:
    """Peak VmRSS of a process tree, sampled every 20 ms."""

    def __init__(self, pid):
        self.pid, self.peak_kib, self._stop = pid, 0, threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, sum(status_kib(p, "VmRSS") for p in tree(self.pid)))
            self._stop.wait(0.02)

    def stop(self):
        self._stop.set()
        self.t.join()
        return self.peak_kib


# --- processes ----------------------------------------------------------------------------------

class Upstream:
    def __init__(self, t0_ns):
        self.proc = subprocess.Popen([sys.executable, str(HERE / "upstream.py"), "--t0-ns", str(t0_ns)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())

    def ctl(self, path, obj=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method="POST" if obj else "GET",
                                     data=json.dumps(obj).encode() if obj else None)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=5)


class EnvoyProc(Envoy):
    """`envoy_signer`: the filter with `"signing": "envoy"` followed by Envoy's aws_request_signing
    filter holding the benchmark's credentials (envoy/envoy-signer.yaml's arrangement)."""

    def __init__(self, with_filter: bool, upstream_port: int, name: str, wasm: Path = WASM,
                 filter_config: dict = FILTER_CONFIG, envoy_signer: bool = False):
        ART.mkdir(exist_ok=True)
        port, admin_port = free_port(), free_port()
        signer = None
        if envoy_signer:
            filter_config = {k: v for k, v in filter_config.items() if k != "credentials"} | {"signing": "envoy"}
            signer = aws_signer(REGION, {"inline_credential": {
                "access_key_id": AKID, "secret_access_key": SECRET, "session_token": TOKEN}})
        cfg = render_config(port, admin_port, filter_config, upstream=("127.0.0.1", upstream_port),
                            region=REGION, route_timeout="600s", wasm=wasm, signer=signer)
        hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        if not with_filter:
            hcm["http_filters"] = [f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.router"]
        self.wasm_sha256 = hashlib.sha256(wasm.read_bytes()).hexdigest()[:16] if with_filter else None
        self.launch(cfg, port, admin_port, ART / name, wasm_log="warning", ready_s=60)
        self.pid = self.proc.pid


class FailoverEnvoyProc(Envoy):
    """envoy/failover.yaml as shipped (the filter as an upstream filter of the cluster, one priority
    per region, the route's retry policy, its access log), with both regions' endpoints pointed at
    the fake Bedrock over plain HTTP and the benchmark's credentials and model in the plugin
    configuration (one profile per region, as shipped)."""

    def __init__(self, upstream_port: int, name: str, wasm: Path = WASM):
        ART.mkdir(exist_ok=True)
        port, admin_port = free_port(), free_port()
        cfg = yaml.safe_load((ROOT / "envoy" / "failover.yaml").read_text())
        cfg["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = port
        cfg["admin"]["address"]["socket_address"]["port_value"] = admin_port
        (cluster,) = cfg["static_resources"]["clusters"]
        cluster["type"] = "STATIC"
        cluster.pop("dns_lookup_family")
        cluster.pop("transport_socket_matches")
        for group in cluster["load_assignment"]["endpoints"]:
            for ep in group["lb_endpoints"]:
                ep["endpoint"]["address"]["socket_address"].update(address="127.0.0.1", port_value=upstream_port)
        filters = cluster["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
        (plugin,) = [f["typed_config"]["config"] for f in filters["http_filters"] if f["name"] == "envoy.filters.http.wasm"]
        shipped = json.loads(plugin["configuration"]["value"])
        value = dict(FILTER_CONFIG, profiles={p: {"region": v["region"]} for p, v in shipped["profiles"].items()})
        plugin["configuration"]["value"] = json.dumps(value)
        plugin["vm_config"]["code"]["local"]["filename"] = str(wasm)
        self.wasm_sha256 = hashlib.sha256(wasm.read_bytes()).hexdigest()[:16]
        self.launch(cfg, port, admin_port, ART / name, wasm_log="warning", ready_s=60)
        self.pid = self.proc.pid


def litellm_python() -> Path:
    return LITELLM_VENV / "bin" / "python"


def ensure_litellm():
    marker = LITELLM_VENV / ".installed"
    if marker.exists():
        return
    log(f"creating {LITELLM_VENV} with litellm[proxy] from PyPI (one-time, not part of the timed run)...")
    subprocess.run(["python3", "-m", "venv", str(LITELLM_VENV)], check=True)
    subprocess.run([str(LITELLM_VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "litellm[proxy]"],
                   check=True)
    marker.touch()


def litellm_version() -> str:
    out = subprocess.run([str(litellm_python()), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


class LiteLLMProc:
    def __init__(self, upstream_port: int):
        ART.mkdir(exist_ok=True)
        self.port = free_port()
        clients.API_KEY = "sk-" + secrets.token_hex(32)  # LiteLLM refuses to start without a master key
        cfg = ART / "litellm.yaml"
        cfg.write_text(f"""model_list:
  - model_name: claude
    litellm_params:
      model: bedrock/converse/{MODEL_ID}
      aws_access_key_id: {AKID}
      aws_secret_access_key: {SECRET}
      aws_session_token: {TOKEN}
      aws_region_name: {REGION}
      aws_bedrock_runtime_endpoint: http://127.0.0.1:{upstream_port}
litellm_settings:
  telemetry: false
  drop_params: true
general_settings:
  master_key: {clients.API_KEY}
""")
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
               "LITELLM_TELEMETRY": "False", "NO_DOCS": "True", "DISABLE_SCHEMA_UPDATE": "True"}
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "HTTP_PROXY",
                  "HTTPS_PROXY", "http_proxy", "https_proxy", "DATABASE_URL"):
            env.pop(k, None)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        self.log_path = ART / "litellm.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([str(LITELLM_VENV / "bin" / "litellm"), "--config", str(cfg), "--host", "127.0.0.1",
                                      "--port", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        self.pid = self.proc.pid
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"litellm exited: {self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/liveliness", timeout=1) as r:
                    r.read()
                    return
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError("litellm did not become ready")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# --- measurement --------------------------------------------------------------------------------

def pct(sorted_vals, q):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, int(round(q / 100 * (len(sorted_vals) - 1)))))
    return sorted_vals[i]


def chat_body(model="claude") -> bytes:
    return json.dumps({"model": model, "stream": True,
                       "messages": [{"role": "user", "content": "Write a long answer."}]}).encode()


def measure(targets, up, scenario, streams, stagger_ns, t0, sdk=False, ttft_probes=30):
    """One measured run: `streams` concurrent streams through each target at the same time (paired:
    every target sees the same upstream ticks and the same noise from other processes); CPU, RSS,
    latency per delta, TTFT. targets: [{"label", "system", "pid", "port", "kind", "path", "body"}].
    Then `ttft_probes` short sequential requests per target (alternating) for TTFT."""
    if sdk:  # the SDK's first stream imports and builds a lot lazily: not part of the measurement
        up.ctl("/__bench/scenario", {"reasoning": 2, "content": 3, "interval_us": 1000, "burst": 1})
        clients.sdk_stream(f"http://127.0.0.1:{targets[0]['port']}/v1", "claude", t0)
    info = up.ctl("/__bench/scenario", scenario)  # frames/bytes of the stream
    time.sleep(0.3)
    for t in targets:
        t["idle_rss"] = sum(status_kib(p, "VmRSS") for p in tree(t["pid"]))
        t["wasm0"] = wasm_memory_kib(t["pid"])
        t["c0"] = cpu(tree(t["pid"]))
        t["sampler"] = Sampler(t["pid"])
    u0, m0, s0 = cpu([up.proc.pid]), cpu([os.getpid()]), system_busy_s()
    w0 = time.monotonic()
    if sdk:
        assert len(targets) == 1
        results = [[clients.sdk_stream(f"http://127.0.0.1:{targets[0]['port']}/v1", "claude", t0)]]
    else:
        results = clients.raw_multi([(t["port"], t["path"], t["body"], t["kind"]) for t in targets], t0, streams, stagger_ns)
    wall = time.monotonic() - w0
    u1, m1, s1 = cpu([up.proc.pid]), cpu([os.getpid()]), system_busy_s()
    for t in targets:
        t["peak"] = t["sampler"].stop()
        pids = tree(t["pid"])
        t["c1"] = cpu(pids)
        t["hwm"] = sum(status_kib(p, "VmHWM") for p in pids)
        t["wasm1"] = wasm_memory_kib(t["pid"])
    ours = sum(t["c1"]["stat_s"] - t["c0"]["stat_s"] for t in targets) + (u1["stat_s"] - u0["stat_s"]) + (m1["stat_s"] - m0["stat_s"])
    others = round(max(0.0, (s1 - s0) - ours), 2)
    # TTFT: short streams, one at a time, alternating between targets (outside the CPU window).
    probes = {t["label"]: [] for t in targets}
    if ttft_probes and not sdk:
        up.ctl("/__bench/scenario", {"reasoning": 2, "content": 3, "interval_us": 1000, "burst": 1})
        for _ in range(ttft_probes):
            for t in targets:
                r = clients.raw_streams(t["port"], t["path"], t["body"], t["kind"], t0)[0]
                if r.ttft_ns is not None and not r.error:
                    probes[t["label"]].append(r.ttft_ns / 1e6)
    runs = []
    per_stream = scenario["reasoning"] + scenario["content"]
    for t, res in zip(targets, results):
        frames = streams * info["frames"]
        proxy_cpu = {k: t["c1"][k] - t["c0"][k] for k in t["c0"]}
        cpu_s = proxy_cpu["sched_s"]
        lat = sorted(v for r in res for v in r.latency_us)
        ttft = sorted(r.ttft_ns / 1e6 for r in res if r.ttft_ns is not None)
        probe = sorted(probes[t["label"]])
        deltas = sum(r.deltas for r in res)
        errors = [r.error for r in res if r.error] + [f"{r.deltas}/{per_stream} deltas" for r in res if r.deltas != per_stream]
        errors += [f"stream not finished (status {r.status})" for r in res if not r.done]
        run = {
            "label": t["label"], "system": t["system"], "client": "openai SDK" if sdk else f"raw {t['kind']}",
            "paired_with": [x["label"] for x in targets if x is not t], "wasm_sha256": t.get("wasm_sha256"),
            "streams": streams, "scenario": scenario, "stream_bytes": info["bytes"], "max_frame_bytes": info["max_frame"],
            "frames": frames, "deltas": deltas, "deltas_expected": streams * per_stream, "errors": errors[:5],
            "error_count": len(errors), "wall_s": round(wall, 3),
            "proxy_cpu_stat_s": round(proxy_cpu["stat_s"], 3), "proxy_cpu_sched_s": round(cpu_s, 4),
            "cpu_us_per_frame": round(cpu_s / frames * 1e6, 2),
            "cpu_us_per_frame_stat": round(proxy_cpu["stat_s"] / frames * 1e6, 2),
            "deltas_per_cpu_s": round(deltas / cpu_s) if cpu_s else None,
            "upstream_cpu_s": round(u1["stat_s"] - u0["stat_s"], 2), "client_cpu_s": round(m1["stat_s"] - m0["stat_s"], 2),
            "system_busy_s": round(s1 - s0, 2), "other_processes_cpu_s": others,
            "latency_us": {f"p{q}": pct(lat, q) for q in (50, 90, 99, 99.9)} | {
                "max": lat[-1] if lat else None, "mean": round(statistics.fmean(lat), 1) if lat else None},
            "ttft_ms": {"p50": pct(ttft, 50), "p99": pct(ttft, 99), "max": ttft[-1] if ttft else None},
            "ttft_probe_ms": {"n": len(probe), "p50": pct(probe, 50), "p90": pct(probe, 90), "max": probe[-1] if probe else None},
            "rss_idle_kib": t["idle_rss"], "rss_peak_sampled_kib": t["peak"], "vm_hwm_kib": t["hwm"],
            "rss_growth_per_stream_kib": round((t["peak"] - t["idle_rss"]) / streams, 1),
            "wasm_memory_before": t["wasm0"], "wasm_memory_after": t["wasm1"],
        }
        for k in ("ttft_ms", "ttft_probe_ms"):
            run[k] = {q: (round(v, 3) if isinstance(v, float) else v) for q, v in run[k].items()}
        log(f"  {t['label']:<28} {streams:>3} streams  {deltas:>7} deltas  {wall:6.1f} s  cpu {cpu_s:6.3f} s "
            f"({run['cpu_us_per_frame']} µs/frame)  lat p50 {run['latency_us']['p50']} p99 {run['latency_us']['p99']} µs  "
            f"ttft p50 {run['ttft_ms']['p50']} ms (probes {run['ttft_probe_ms']['p50']} ms)  hwm {t['hwm'] // 1024} MiB  "
            f"others {others} s" + (f"  ERRORS {errors[:3]}" if errors else ""))
        runs.append(run)
    return runs


def warm(port, kind, path, body, up, t0, n=2):
    up.ctl("/__bench/scenario", {"reasoning": 5, "content": 300, "interval_us": 100, "burst": 5})
    rs = clients.raw_streams(port, path, body, kind, t0, n=n, stagger_ns=1_000_000)
    bad = [r.error or f"{r.deltas} deltas" for r in rs if r.error or r.deltas != 305]
    if bad:
        raise RuntimeError(f"warm-up failed: {bad}")


def main():
    global WASM
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--content", type=int, default=5000, help="text deltas per stream")
    ap.add_argument("--reasoning", type=int, default=20, help="reasoning deltas per stream, before the text")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--interval-us-1", type=int, default=1000, help="pacing at 1 stream: one burst every N µs")
    ap.add_argument("--burst-1", type=int, default=1)
    ap.add_argument("--interval-us-n", type=int, default=50000, help="pacing at N streams, per stream")
    ap.add_argument("--burst-n", type=int, default=5)
    ap.add_argument("--reps-1", type=int, default=3, help="paired filter/passthrough runs at 1 stream, fresh Envoys each")
    ap.add_argument("--reps-n", type=int, default=2, help="paired filter/passthrough runs at N streams, fresh Envoys each")
    ap.add_argument("--litellm-budget-s", type=float, default=60, help="target wall time of LiteLLM's concurrent run")
    ap.add_argument("--no-litellm", action="store_true")
    ap.add_argument("--null-wasm", help="also run Envoy with this wasm module against the raw eventstream "
                                        "(e.g. a no-op filter that reads and rewrites each body chunk: "
                                        "Envoy's own per-call wasm cost)")
    ap.add_argument("--null-wasm-n", action="store_true", help="run the --null-wasm module at N streams too "
                                                                "(a third Envoy: more load on the client)")
    ap.add_argument("--wasm", default=str(WASM), help="the filter module (default dist/bedrock_bridge.wasm)")
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--upstream", action="store_true",
                    help="also run the filter as an upstream filter (envoy/failover.yaml as shipped, a third Envoy "
                         "in every paired run, its client reading OpenAI SSE like the filter's)")
    args = ap.parse_args()

    WASM = Path(args.wasm).resolve()
    for p, what in ((WASM, "make build"), (ROOT / ".venv" / ".installed", "make venv")):
        if not p.exists():
            sys.exit(f"{p} is missing: run `{what}` first")
    if not args.no_litellm:
        ensure_litellm()

    started = time.monotonic()
    t0 = time.monotonic_ns()
    up = Upstream(t0)
    sc1 = {"reasoning": args.reasoning, "content": args.content, "interval_us": args.interval_us_1, "burst": args.burst_1}
    scn = {"reasoning": args.reasoning, "content": args.content, "interval_us": args.interval_us_n, "burst": args.burst_n}
    N = args.concurrency
    stagger_n = args.interval_us_n * 1000 // N
    runs = []
    env_meta = {}
    procs_to_stop = []
    try:
        load_before = os.getloadavg()
        others_before = top_others({os.getpid(), up.proc.pid})
        # --- Envoy: filter vs passthrough, alternating, fresh Envoy per run (VmHWM per run) ----------
        sse_path, es_path = "/v1/chat/completions", f"/model/{MODEL_ID}/converse-stream"
        body, es_body = chat_body(), json.dumps({"messages": [{"role": "user", "content": [{"text": "x"}]}]}).encode()
        for streams, sc, stagger, reps in ((1, sc1, 0, args.reps_1), (N, scn, stagger_n, args.reps_n)):
            systems = ["filter", "passthrough"]
            if args.upstream:
                systems.append("upstream")
            if args.null_wasm and (streams == 1 or args.null_wasm_n):
                systems.append("null-wasm")
            for rep in range(reps):
                envoys = {}
                try:
                    for system in systems:
                        stem = f"{system}-{streams}-{rep + 1}"
                        envoys[system] = (FailoverEnvoyProc(up.port, stem) if system == "upstream" else
                                          EnvoyProc(system != "passthrough", up.port, stem,
                                                    wasm=Path(args.null_wasm) if system == "null-wasm" else WASM))
                        procs_to_stop.append(envoys[system])
                    targets = []
                    for system, e in envoys.items():
                        kind, path, b = ("sse", sse_path, body) if system in ("filter", "upstream") else ("es", es_path, es_body)
                        warm(e.port, kind, path, b, up, t0)
                        targets.append({"label": f"{system} x{streams} #{rep + 1}", "system": system, "pid": e.pid,
                                        "port": e.port, "kind": kind, "path": path, "body": b, "wasm_sha256": e.wasm_sha256})
                    for r in measure(targets, up, sc, streams, stagger, t0):
                        r["rep"] = rep + 1
                        runs.append(r)
                    if streams == 1 and rep == 0:
                        for r in measure([dict(targets[0], label="filter x1 openai-SDK")], up, sc, 1, 0, t0, sdk=True):
                            r["rep"] = 1
                            runs.append(r)
                finally:
                    for e in envoys.values():
                        e.stop()
                        procs_to_stop.remove(e)
        # --- LiteLLM ------------------------------------------------------------------------------
        if not args.no_litellm:
            env_meta["litellm_version"] = litellm_version()
            t = time.monotonic()
            ll = LiteLLMProc(up.port)
            procs_to_stop.append(ll)
            env_meta["litellm_startup_s"] = round(time.monotonic() - t, 1)
            paths0 = up.ctl("/__bench/stats")["paths"]
            warm(ll.port, "sse", sse_path, body, up, t0)
            target = {"label": "litellm x1", "system": "litellm", "pid": ll.pid, "port": ll.port, "kind": "sse",
                      "path": sse_path, "body": body}
            r1 = measure([target], up, sc1, 1, 0, t0)[0]
            r1["rep"] = 1
            runs.append(r1)
            r = measure([dict(target, label="litellm x1 openai-SDK")], up, sc1, 1, 0, t0, sdk=True)[0]
            r["rep"] = 1
            runs.append(r)
            # Streams for the concurrent run: as many as fit the budget at LiteLLM's measured CPU per delta.
            per_delta = 1 / r1["deltas_per_cpu_s"] if r1["deltas_per_cpu_s"] else 1e-3
            fit = int(args.litellm_budget_s / (per_delta * (args.content + args.reasoning)))
            n_ll = max(2, min(N, fit))
            env_meta["litellm_streams_note"] = (f"{n_ll} concurrent streams (of {N}): LiteLLM's measured "
                                                f"{per_delta * 1e6:.0f} µs CPU per delta allows {fit} in "
                                                f"{args.litellm_budget_s:.0f} s" if n_ll < N else f"{N} concurrent streams")
            r = measure([dict(target, label=f"litellm x{n_ll}")], up, scn, n_ll, args.interval_us_n * 1000 // n_ll, t0,
                        ttft_probes=0)[0]
            r["rep"] = 1
            runs.append(r)
            paths1 = up.ctl("/__bench/stats")["paths"]
            env_meta["litellm_upstream_paths"] = {k: v - paths0.get(k, 0) for k, v in paths1.items() if v - paths0.get(k, 0)}
            ll.stop()
            procs_to_stop.remove(ll)
        load_after = os.getloadavg()
        others_after = top_others({os.getpid(), up.proc.pid})
    finally:
        for p in procs_to_stop:
            p.stop()
        up.stop()

    total = time.monotonic() - started
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release(),
                    "load_avg_before": [round(x, 2) for x in load_before], "load_avg_after": [round(x, 2) for x in load_after],
                    "busiest_other_processes_before": others_before, "busiest_other_processes_after": others_after},
        "envoy_version": envoy_version(), "envoy_concurrency": 2, "wasm_runtime": "envoy.wasm.runtime.v8",
        "wasm_bytes": WASM.stat().st_size, "python": platform.python_version(),
        "wasm_sha256_filter_runs": sorted({r["wasm_sha256"] for r in runs if r["system"] == "filter" and r.get("wasm_sha256")}),
        "args": vars(args), "total_wall_s": round(total, 1), **env_meta,
    }
    summary = summarize(runs, args, N)
    out = {"meta": meta, "summary": summary, "runs": runs}
    Path(args.out).mkdir(parents=True, exist_ok=True)
    Path(args.out, "results.json").write_text(json.dumps(out, indent=1) + "\n")
    md = render_md(out)
    Path(args.out, "results.md").write_text(md)
    print(md)


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def envoy_version() -> str:
    out = subprocess.run([envoy_binary(), "--version"], capture_output=True, text=True).stdout
    return out.strip().split("version:")[-1].strip()


# --- summary ------------------------------------------------------------------------------------

def r1(x, nd=1):
    if x is None:
        return None
    return int(round(x)) if nd == 0 else round(x, nd)


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarize(runs, args, N):
    def pick(system, streams, client="raw"):
        return [r for r in runs if r["system"] == system and r["streams"] == streams and r["client"].startswith(client)]

    s = {"per_concurrency": {}}
    for streams in (1, N):
        a, b = pick("filter", streams), pick("passthrough", streams)
        if not a or not b:
            continue
        row = {"reps": len(a)}
        nw = pick("null-wasm", streams)

        def paired(get, runs_x, runs_y, nd=1):
            """Median of the per-run differences x − y (runs paired by repetition), and the list."""
            diffs = [get(x) - get(y) for x, y in zip(runs_x, runs_y) if get(x) is not None and get(y) is not None]
            return (r1(med(diffs), nd) if diffs else None), [r1(d, nd) for d in diffs]

        row["cpu_us_per_frame_filter"] = r1(med([r["cpu_us_per_frame"] for r in a]), 2)
        row["cpu_us_per_frame_passthrough"] = r1(med([r["cpu_us_per_frame"] for r in b]), 2)
        row["cpu_us_per_frame_added"], row["cpu_us_per_frame_added_per_rep"] = paired(lambda r: r["cpu_us_per_frame"], a, b)
        row["cpu_us_per_frame_added_stat"], _ = paired(lambda r: r["cpu_us_per_frame_stat"], a, b)
        for q in ("p50", "p90", "p99", "p99.9", "max"):
            row[f"latency_{q}_us_filter"] = r1(med([r["latency_us"][q] for r in a]), 0)
            row[f"latency_{q}_us_passthrough"] = r1(med([r["latency_us"][q] for r in b]), 0)
            row[f"latency_{q}_us_added"], row[f"latency_{q}_us_added_per_rep"] = paired(lambda r: r["latency_us"][q], a, b, 0)
        for q in ("p50", "p99"):
            row[f"ttft_{q}_ms_filter"] = r1(med([r["ttft_ms"][q] for r in a]), 2)
            row[f"ttft_{q}_ms_passthrough"] = r1(med([r["ttft_ms"][q] for r in b]), 2)
        for q in ("p50", "p90"):
            row[f"ttft_probe_{q}_ms_filter"] = r1(med([r["ttft_probe_ms"][q] for r in a]), 2)
            row[f"ttft_probe_{q}_ms_passthrough"] = r1(med([r["ttft_probe_ms"][q] for r in b]), 2)
            row[f"ttft_probe_{q}_ms_added"], _ = paired(lambda r: r["ttft_probe_ms"][q], a, b, 2)
        if nw:
            row["cpu_us_per_frame_null_wasm"] = r1(med([r["cpu_us_per_frame"] for r in nw]), 2)
            row["cpu_us_per_frame_null_wasm_added"], row["cpu_us_per_frame_null_wasm_added_per_rep"] = paired(
                lambda r: r["cpu_us_per_frame"], nw, b)
            for q in ("p50", "p99"):
                row[f"latency_{q}_us_null_wasm"] = r1(med([r["latency_us"][q] for r in nw]), 0)
                row[f"latency_{q}_us_null_wasm_added"], _ = paired(lambda r: r["latency_us"][q], nw, b, 0)
        if up := pick("upstream", streams):
            row.update(upstream_row(up, a, b, paired))
        row["vm_hwm_kib_filter"] = med([r["vm_hwm_kib"] for r in a])
        row["vm_hwm_kib_passthrough"] = med([r["vm_hwm_kib"] for r in b])
        row["deltas_per_cpu_s_filter"] = r1(med([r["deltas_per_cpu_s"] for r in a]), 0)
        row["deltas_per_cpu_s_passthrough"] = r1(med([r["deltas_per_cpu_s"] for r in b]), 0)
        s["per_concurrency"][streams] = row
    one, many = s["per_concurrency"].get(1), s["per_concurrency"].get(N)
    a, b = pick("filter", N), pick("passthrough", N)
    if a and b:
        ga, gb = r1(med([r["rss_growth_per_stream_kib"] for r in a])), r1(med([r["rss_growth_per_stream_kib"] for r in b]))
        wasm_growth = med([(r["wasm_memory_after"]["size_kib"] - r["wasm_memory_before"]["size_kib"]) / N for r in a])
        wasm_rss_growth = med([(r["wasm_memory_after"]["rss_kib"] - r["wasm_memory_before"]["rss_kib"]) / N for r in a])
        mem = {
            "streams": N, "max_frame_bytes": a[0]["max_frame_bytes"],
            "rss_growth_per_stream_filter": ga, "rss_growth_per_stream_passthrough": gb,
            "rss_growth_per_stream_added_by_filter": round(ga - gb, 1),
            "wasm_linear_memory_growth_per_stream": round(wasm_growth, 2),
            "wasm_linear_memory_rss_growth_per_stream": round(wasm_rss_growth, 2),
            "wasm_linear_memory_after_kib": a[0]["wasm_memory_after"],
        }
        if one and many:
            mem["hwm_slope_filter"] = round((many["vm_hwm_kib_filter"] - one["vm_hwm_kib_filter"]) / (N - 1), 1)
            mem["hwm_slope_passthrough"] = round((many["vm_hwm_kib_passthrough"] - one["vm_hwm_kib_passthrough"]) / (N - 1), 1)
        s["memory_per_stream_kib"] = mem
    ll = [r for r in runs if r["system"] == "litellm" and r["client"].startswith("raw")]
    if ll:
        s["litellm"] = {}
        for r in ll:
            envoy_same = one if r["streams"] == 1 else many
            key = "1" if r["streams"] == 1 else "n"
            ratio = (envoy_same["deltas_per_cpu_s_filter"] / r["deltas_per_cpu_s"]) if envoy_same and r["deltas_per_cpu_s"] else None
            s["litellm"][key] = {"streams": r["streams"], "deltas_per_cpu_s": r["deltas_per_cpu_s"],
                                 "envoy_filter_deltas_per_cpu_s": envoy_same["deltas_per_cpu_s_filter"] if envoy_same else None,
                                 "envoy_over_litellm": round(ratio, 1) if ratio else None,
                                 "ttft_p50_ms": r["ttft_ms"]["p50"], "ttft_probe_p50_ms": r["ttft_probe_ms"]["p50"],
                                 "vm_hwm_kib": r["vm_hwm_kib"],
                                 "latency_p50_us": r["latency_us"]["p50"], "latency_p99_us": r["latency_us"]["p99"]}
        s["litellm"]["rss_growth_per_stream_kib"] = max(ll, key=lambda r: r["streams"])["rss_growth_per_stream_kib"]
    # goals
    g = {}
    worst_p99 = max((row["latency_p99_us_added"] for row in s["per_concurrency"].values()), default=None)
    g["added_latency_p99_lt_100us"] = {"value_us": worst_p99, "met": worst_p99 is not None and worst_p99 < 100}
    ratios = [v["envoy_over_litellm"] for k, v in s.get("litellm", {}).items() if isinstance(v, dict) and v.get("envoy_over_litellm")]
    g["deltas_per_cpu_s_ge_50x_litellm"] = {"value_x": min(ratios) if ratios else None,
                                            "met": bool(ratios) and min(ratios) >= 50}
    m = s.get("memory_per_stream_kib")
    if m:
        # All of Envoy's extra resident memory per stream with the filter (wasm linear memory that
        # was touched and Envoy's per-stream wasm context included), or the linear memory the VMs
        # reserved per stream, whichever is larger.
        added = max(m["rss_growth_per_stream_added_by_filter"], m["wasm_linear_memory_growth_per_stream"], 0)
        limit = 64 + m["max_frame_bytes"] / 1024
        g["memory_per_stream_le_64kib_beyond_frame"] = {"value_kib": round(added, 1), "limit_kib": round(limit, 1),
                                                        "met": added <= limit}
    s["goals"] = g
    return s


def upstream_row(up, a, b, paired) -> dict:
    """The filter as an upstream filter (envoy/failover.yaml) against passthrough and against the
    filter in the listener, each difference taken within one run (the three Envoys ran together)."""
    row = {"cpu_us_per_frame_upstream": r1(med([r["cpu_us_per_frame"] for r in up]), 2),
           "vm_hwm_kib_upstream": med([r["vm_hwm_kib"] for r in up])}
    row["cpu_us_per_frame_upstream_added"], row["cpu_us_per_frame_upstream_added_per_rep"] = paired(
        lambda r: r["cpu_us_per_frame"], up, b)
    row["cpu_us_per_frame_upstream_minus_filter"], row["cpu_us_per_frame_upstream_minus_filter_per_rep"] = paired(
        lambda r: r["cpu_us_per_frame"], up, a)
    for q in ("p50", "p99"):
        row[f"latency_{q}_us_upstream"] = r1(med([r["latency_us"][q] for r in up]), 0)
        row[f"latency_{q}_us_upstream_added"], _ = paired(lambda r: r["latency_us"][q], up, b, 0)
    row["ttft_probe_p50_ms_upstream"] = r1(med([r["ttft_probe_ms"]["p50"] for r in up]), 2)
    row["ttft_probe_p50_ms_upstream_minus_filter"], row["ttft_probe_p50_ms_upstream_minus_filter_per_rep"] = paired(
        lambda r: r["ttft_probe_ms"]["p50"], up, a, 2)
    return row


def render_md(out) -> str:
    m, s, runs = out["meta"], out["summary"], out["runs"]
    a = m["args"]
    mach = m["machine"]
    L = [
        "# In-Envoy benchmark: results", "",
        "Generated by `bench/envoy/run.py` (`make bench-envoy`); method in `bench/envoy/README.md`. "
        "Raw numbers per run: `results.json`.", "",
        f"- date: {m['date']}; the whole run took {m['total_wall_s']} s",
        f"- machine: {mach['cores']} cores ({mach['cpu']}), Linux {mach['kernel']}, Python {m['python']}",
        f"- load from other processes: load average {mach['load_avg_before']} before, {mach['load_avg_after']} after; "
        f"busiest others before: {', '.join(mach['busiest_other_processes_before']) or 'none'}; "
        f"after: {', '.join(mach['busiest_other_processes_after']) or 'none'}; per run in the table "
        "(CPU seconds used by processes other than the proxy, the fake Bedrock and the client)",
        f"- Envoy {m['envoy_version']}, `--concurrency 2`, V8; `dist/bedrock_bridge.wasm` {m['wasm_bytes']:,} bytes, sha256 "
        f"{', '.join(m['wasm_sha256_filter_runs'])}…" + (" (**the module changed during the run**)" if len(m['wasm_sha256_filter_runs']) > 1 else ""),
        f"- LiteLLM {m.get('litellm_version', '(not run)')} proxy, default 1 worker, route `bedrock/converse/{MODEL_ID}` "
        f"with `aws_bedrock_runtime_endpoint`; {m.get('litellm_streams_note', '')}; it called "
        f"{m.get('litellm_upstream_paths', {})}",
        f"- each stream: {a['reasoning']} reasoning + {a['content']} text deltas of 8 characters, "
        f"{a['reasoning'] + a['content'] + 6} eventstream frames ({runs[0]['stream_bytes']:,} bytes, largest "
        f"frame {runs[0]['max_frame_bytes']} bytes); 1 stream: {a['burst_1']} frame every {a['interval_us_1']} µs; "
        f"{a['concurrency']} streams: a burst of {a['burst_n']} frames every {a['interval_us_n'] / 1000:g} ms per stream "
        f"({a['concurrency'] * a['burst_n'] * 1e6 / a['interval_us_n']:,.0f} frames/s in all), starts staggered; "
        f"{a['reps_1']} (1 stream) and {a['reps_n']} ({a['concurrency']} streams) paired runs: the filter and passthrough "
        + ("(and the upstream-filter) " if a.get("upstream") else "") + "Envoys (fresh ones each time) carry their streams at the same time, fed by the same upstream ticks, so both see "
        "the same load from other processes", "",
    ]
    L += ["## Summary", ""]
    L += ["| | 1 stream | " + f"{a['concurrency']} streams |", "|---|---|---|"]
    pc = s["per_concurrency"]
    ks = list(pc)

    def row(name, fn):
        L.append(f"| {name} | " + " | ".join(fn(pc[k]) for k in ks) + " |")

    def reps(lst):
        return f" (runs: {', '.join(str(x) for x in lst)})" if len(lst) > 1 else ""

    L.append("| repetitions (paired runs) | " + " | ".join(str(pc[k]["reps"]) for k in ks) + " |")
    row("Envoy CPU per frame, filter / passthrough", lambda r: f"{r['cpu_us_per_frame_filter']} / {r['cpu_us_per_frame_passthrough']} µs")
    row("**added CPU per frame**", lambda r: f"**{r['cpu_us_per_frame_added']} µs**{reps(r['cpu_us_per_frame_added_per_rep'])}; "
                                             f"from utime+stime {r['cpu_us_per_frame_added_stat']} µs")
    for q, bold in (("p50", True), ("p90", False), ("p99", True)):
        b = "**" if bold else ""
        row(f"latency per delta {q}, filter / passthrough / {b}added{b}",
            lambda r, q=q, b=b: f"{r[f'latency_{q}_us_filter']} / {r[f'latency_{q}_us_passthrough']} / "
                                f"{b}{r[f'latency_{q}_us_added']} µs{b}{reps(r[f'latency_{q}_us_added_per_rep'])}")
    row("TTFT, 30 short sequential requests, p50, filter / passthrough / **added**",
        lambda r: f"{r['ttft_probe_p50_ms_filter']} / {r['ttft_probe_p50_ms_passthrough']} / **{r['ttft_probe_p50_ms_added']} ms**")
    row("TTFT, same, p90, filter / passthrough / added",
        lambda r: f"{r['ttft_probe_p90_ms_filter']} / {r['ttft_probe_p90_ms_passthrough']} / {r['ttft_probe_p90_ms_added']} ms")
    row("TTFT of the long streams p50 / p99, filter vs passthrough",
        lambda r: f"{r['ttft_p50_ms_filter']} / {r['ttft_p99_ms_filter']} vs {r['ttft_p50_ms_passthrough']} / {r['ttft_p99_ms_passthrough']} ms")
    row("peak Envoy RSS (VmHWM), filter / passthrough",
        lambda r: f"{r['vm_hwm_kib_filter'] / 1024:.1f} / {r['vm_hwm_kib_passthrough'] / 1024:.1f} MiB")

    def system_row(label, key):
        """Another Envoy of the same runs (no-op module, upstream placement) against passthrough."""
        if any(f"cpu_us_per_frame_{key}" in pc[k] for k in ks):
            row(f"{label}: CPU per frame / **added** / added latency p50, p99",
                lambda r: f"{r[f'cpu_us_per_frame_{key}']} / **{r[f'cpu_us_per_frame_{key}_added']} µs**"
                          f"{reps(r[f'cpu_us_per_frame_{key}_added_per_rep'])} / "
                          f"{r[f'latency_p50_us_{key}_added']}, {r[f'latency_p99_us_{key}_added']} µs"
                          if f"cpu_us_per_frame_{key}" in r else "not run")

    system_row("no-op wasm filter (reads and rewrites each chunk)", "null_wasm")
    system_row("filter as an upstream filter (envoy/failover.yaml)", "upstream")
    if any("cpu_us_per_frame_upstream" in pc[k] for k in ks):
        row("**upstream − listener placement**: CPU per frame; TTFT p50 of the short requests (per-request cost)",
            lambda r: f"**{r['cpu_us_per_frame_upstream_minus_filter']} µs**"
                      f"{reps(r['cpu_us_per_frame_upstream_minus_filter_per_rep'])}; "
                      f"{r['ttft_probe_p50_ms_upstream']} − {r['ttft_probe_p50_ms_filter']} = "
                      f"**{r['ttft_probe_p50_ms_upstream_minus_filter']} ms**"
                      f"{reps(r['ttft_probe_p50_ms_upstream_minus_filter_per_rep'])}"
                      if "cpu_us_per_frame_upstream" in r else "not run")
    row("deltas per Envoy CPU-second, filter / passthrough",
        lambda r: f"{r['deltas_per_cpu_s_filter']:,} / {r['deltas_per_cpu_s_passthrough']:,}")
    if "litellm" in s:
        ll = {v["streams"]: v for k, v in s["litellm"].items() if isinstance(v, dict)}
        L += ["", "### Against LiteLLM (same fake Bedrock, same stream, same raw SSE client)", "",
              "| streams | LiteLLM deltas per CPU-second | Envoy + filter deltas per CPU-second (same concurrency) | **ratio** | "
              "LiteLLM TTFT p50 (short requests / long streams) | LiteLLM latency per delta p50 / p99 | LiteLLM peak RSS (VmHWM, process tree) |",
              "|---|---|---|---|---|---|---|"]
        for n, v in sorted(ll.items()):
            L.append(f"| {n} | {v['deltas_per_cpu_s']:,} | {v['envoy_filter_deltas_per_cpu_s']:,} | **{v['envoy_over_litellm']}×** | "
                     f"{v['ttft_probe_p50_ms']} / {v['ttft_p50_ms']} ms | {v['latency_p50_us'] / 1000:.1f} / {v['latency_p99_us'] / 1000:.1f} ms | "
                     f"{v['vm_hwm_kib'] / 1024:.0f} MiB |")
        L.append(f"\nLiteLLM resident memory growth during its concurrent run: {s['litellm']['rss_growth_per_stream_kib']} KiB per stream.")
    mem = s.get("memory_per_stream_kib")
    if mem:
        L += ["", f"### Memory per stream ({mem['streams']} streams)", "",
              f"- Envoy RSS growth from idle to the peak of the {mem['streams']}-stream run, per stream: "
              f"filter {mem['rss_growth_per_stream_filter']} KiB, passthrough {mem['rss_growth_per_stream_passthrough']} KiB, "
              f"**added by the filter {mem['rss_growth_per_stream_added_by_filter']} KiB**",
              f"- the filter's own heap: wasm linear memory grew by {mem['wasm_linear_memory_growth_per_stream']} KiB per stream "
              f"(touched pages: {mem['wasm_linear_memory_rss_growth_per_stream']} KiB per stream); after the run "
              f"{mem['wasm_linear_memory_after_kib']['vms']} VMs hold {mem['wasm_linear_memory_after_kib']['size_kib']} KiB of "
              f"linear memory, {mem['wasm_linear_memory_after_kib']['rss_kib']} KiB resident",
              f"- VmHWM slope between the 1- and {mem['streams']}-stream runs (separate Envoys, so V8 start-up noise "
              f"included): filter {mem.get('hwm_slope_filter')} KiB, passthrough {mem.get('hwm_slope_passthrough')} KiB per stream"]
    g = s["goals"]
    L += ["", "## Goals", ""]
    x = g["added_latency_p99_lt_100us"]
    L.append(f"- added latency per delta p99 < 100 µs: worst {x['value_us']} µs → **{'met' if x['met'] else 'MISSED'}**")
    x = g["deltas_per_cpu_s_ge_50x_litellm"]
    L.append(f"- ≥ 50× LiteLLM's deltas per CPU-second: lowest {x['value_x']}× → **{'met' if x['met'] else 'MISSED'}**")
    x = g.get("memory_per_stream_le_64kib_beyond_frame")
    if x:
        L.append(f"- memory per stream ≤ 64 KiB beyond the largest frame (≤ {x['limit_kib']} KiB here): "
                 f"{x['value_kib']} KiB → **{'met' if x['met'] else 'MISSED'}**")
    # --- what bounds the numbers ---
    L += ["", "## What bounds it", ""]
    for n, r in pc.items():
        line = (f"- {n} stream{'s' if n != 1 else ''}: the filter adds {r['cpu_us_per_frame_added']} µs of Envoy CPU per frame "
                f"on top of Envoy's own {r['cpu_us_per_frame_passthrough']} µs")
        if "cpu_us_per_frame_null_wasm_added" in r:
            share = r["cpu_us_per_frame_null_wasm_added"] / r["cpu_us_per_frame_added"] * 100 if r["cpu_us_per_frame_added"] > 0 else 0
            own = r["cpu_us_per_frame_added"] - r["cpu_us_per_frame_null_wasm_added"]
            line += (f"; a no-op wasm filter making the same host calls (one call per body chunk) already adds "
                     f"{r['cpu_us_per_frame_null_wasm_added']} µs ({share:.0f}% of it): that part is Envoy's per-call wasm "
                     f"cost, which no filter avoids. The remaining {own:.1f} µs is the filter's own work inside V8, against "
                     f"0.6–1 µs per frame for the same code natively (`make bench`, opt-level 3)")
        L.append(line + ".")
    if "litellm" in s:
        for k, v in s["litellm"].items():
            if isinstance(v, dict):
                env_row = pc.get(1 if v["streams"] == 1 else ks[-1])
                if env_row:
                    L.append(f"- Against LiteLLM at {v['streams']} stream{'s' if v['streams'] != 1 else ''}: Envoy *without any filter* does "
                             f"{env_row['deltas_per_cpu_s_passthrough']:,} deltas per CPU-second = "
                             f"{env_row['deltas_per_cpu_s_passthrough'] / v['deltas_per_cpu_s']:.0f}× LiteLLM, so that is the "
                             f"ceiling of the ratio for any filter in this Envoy with this framing; with the filter "
                             f"{v['envoy_over_litellm']}×.")
    if mem:
        L.append(f"- Memory: the filter keeps per stream at most one incomplete eventstream frame (the decoder reserves exactly "
                 f"the frame's declared length, ≤ `limits.max_frame_bytes`), the fixed parts of its SSE chunks "
                 f"(~350 bytes) and the tool-call index table; each body chunk's output goes into one buffer per VM, "
                 f"reused by every stream's chunks and kept only up to 64 KiB. Measured: the wasm heap grew {mem['wasm_linear_memory_growth_per_stream']} KiB "
                 f"per stream; Envoy itself (passthrough) grows ~{mem['rss_growth_per_stream_passthrough']} KiB per stream "
                 f"(two connections and their buffers), and the filter Envoy's RSS growth ({mem['rss_growth_per_stream_filter']} KiB) "
                 f"is within that noise: allocator pages freed after V8 compiled the module are reused.")
    L += ["", "## Runs", "",
          "| run | client | streams | deltas | wall | proxy CPU | CPU per frame | deltas per CPU-s | latency p50 / p99 / max | "
          "TTFT p50 / p99 | VmHWM | RSS growth per stream | others' CPU |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lat, t = r["latency_us"], r["ttft_ms"]
        err = "" if not r["error_count"] else f" ⚠ {r['error_count']} errors: {r['errors'][:2]}"
        L.append(f"| {r['label']} | {r['client']} | {r['streams']} | {r['deltas']:,}{err} | {r['wall_s']} s | "
                 f"{r['proxy_cpu_sched_s']} s | {r['cpu_us_per_frame']} µs | {r['deltas_per_cpu_s']:,} | "
                 f"{lat['p50']} / {lat['p99']} / {lat['max']} µs | {t['p50']} / {t['p99']} ms | {r['vm_hwm_kib'] / 1024:.1f} MiB | "
                 f"{r['rss_growth_per_stream_kib']} KiB | {r['other_processes_cpu_s']} s |")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
