'use strict';
// Per-frame cost of a proxy-wasm filter module inside Node's V8, through a fake host.
//   node bench/v8/run.js [--module dist/bedrock_bridge.wasm] [--null target/.../nullfilter.wasm]
//                        [--burst 1] [--streams 40] [--warm 10] [--check]
// Prints ns per frame (median over streams after warm-up) and host calls / bytes per chunk.
// With `node --cpu-prof --cpu-prof-dir DIR bench/v8/run.js ...` V8 writes a profile; summarise it
// with `node bench/v8/profile-summary.js DIR/*.cpuprofile` (names need a module built with its
// name section: `make v8-profile`).
const { FakeHost } = require('./host');
const { buildFrames, chunks } = require('./frames');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
  return acc;
}, []));
const modulePath = args.module || 'dist/bedrock_bridge.wasm';
const burst = Number(args.burst || 1);
const streams = Number(args.streams || 40);
const warm = Number(args.warm || 10);
const content = Number(args.content || 5000);

const CONFIG = JSON.stringify({
  region: 'us-east-1',
  models: { claude: 'us.anthropic.claude-sonnet-4-20250514-v1:0' },
  credentials: { access_key_id: 'AKIDEXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
});
const REQUEST_HEADERS = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw.local',
  ':scheme': 'http', 'content-type': 'application/json', 'x-forwarded-proto': 'http', 'x-request-id': 'bench-1' };
const REQUEST_BODY = new TextEncoder().encode(JSON.stringify({ model: 'claude', stream: true,
  messages: [{ role: 'user', content: 'Write a long answer.' }] }));
const RESPONSE_HEADERS = { ':status': '200', 'content-type': 'application/vnd.amazon.eventstream',
  'x-amzn-requestid': 'r-1', date: 'Sun, 29 Nov 2026 20:00:00 GMT' };

const frames = buildFrames(20, content);
const bodyChunks = chunks(frames, burst);

function runStreams(host, n, perStream) {
  for (let s = 0; s < n; s++) {
    const id = host.open(REQUEST_HEADERS, REQUEST_BODY, RESPONSE_HEADERS);
    const t0 = process.cpuUsage();
    let outBytes = 0;
    let last;
    for (let i = 0; i < bodyChunks.length; i++) {
      last = host.responseBody(id, bodyChunks[i], i === bodyChunks.length - 1);
      outBytes += last.length;
    }
    const cpu = process.cpuUsage(t0);
    const ns = (cpu.user + cpu.system) * 1000; // CPU time: less sensitive to a busy machine than wall time
    host.close(id);
    if (perStream) perStream(ns, outBytes, last);
  }
}

function measure(path, label) {
  const host = new FakeHost(path, { config: CONFIG });
  runStreams(host, warm);
  host.resetCounts();
  const perFrame = [];
  let out = 0;
  let tail = '';
  runStreams(host, streams, (ns, bytes, last) => {
    perFrame.push(ns / frames.length);
    out = bytes;
    tail = new TextDecoder().decode(last).slice(-60);
  });
  perFrame.sort((a, b) => a - b);
  const med = perFrame[perFrame.length >> 1];
  const nChunks = bodyChunks.length * streams;
  const calls = Object.entries(host.calls).filter(([, v]) => v).map(([k, v]) => `${k.replace('proxy_', '')} ${(v / nChunks).toFixed(2)}`);
  console.log(`${label}: ${med.toFixed(0)} ns of CPU per frame (median of ${streams} streams of ${frames.length} frames,`
    + ` ${burst} frame(s) per chunk; min ${perFrame[0].toFixed(0)}, max ${perFrame[perFrame.length - 1].toFixed(0)})`);
  console.log(`  per chunk: host calls ${calls.join(', ')}; bytes in ${(host.bytesIn / nChunks).toFixed(0)},`
    + ` out ${(host.bytesOut / nChunks).toFixed(0)}; SSE bytes per stream ${out}`);
  if (args.check && label === 'filter' && !tail.includes('data: [DONE]')) {
    console.error(`${label}: the stream did not end with [DONE]: ${JSON.stringify(tail)}`);
    process.exitCode = 1;
  }
  return med;
}

const filter = measure(modulePath, 'filter');
if (args.null) {
  const floor = measure(args.null, 'no-op');
  console.log(`filter - no-op: ${(filter - floor).toFixed(0)} ns per frame`);
}
