'use strict';
// Request-side cost of filter modules in Node's V8, through the fake host: start-up (compile,
// instantiate, configure) and CPU per request (headers + whole body -> translated, signed request)
// for request bodies of several sizes.
//   python3 bench/agent_request.py --out DIR
//   node --no-liftoff bench/v8/request.js --module A.wasm [--base B.wasm] --bodies DIR [--n 40]
// Add --no-wasm-lazy-compilation to compile every function at start-up (Node compiles lazily by
// default); either way start-up is the process's CPU time, compile threads included.
// Prints, per module and body, the median CPU per request; with --base, the difference.
const fs = require('fs');
const path = require('path');
const { FakeHost } = require('./host');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
  return acc;
}, []));
const n = Number(args.n || 40);
const CONFIG = JSON.stringify({
  region: 'us-east-1',
  models: { claude: 'us.anthropic.claude-sonnet-4-20250514-v1:0' },
  credentials: { access_key_id: 'AKIDEXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    session_token: 'FwoGZXIvYXdzEXAMPLETOKEN' },
});
const PATHS = { chat: '/v1/chat/completions', messages: '/v1/messages' };
const RESPONSE_HEADERS = { ':status': '200', 'content-type': 'application/vnd.amazon.eventstream' };

function bodies() {
  const small = { name: 'chat-small', door: 'chat', bytes: new TextEncoder().encode(JSON.stringify({
    model: 'claude', stream: true, messages: [{ role: 'user', content: 'Write a long answer.' }] })) };
  if (!args.bodies) return [small];
  return [small, ...fs.readdirSync(args.bodies).filter((f) => f.endsWith('.json')).sort().map((f) => ({
    name: f.replace(/\.json$/, ''), door: f.split('-')[0], bytes: fs.readFileSync(path.join(args.bodies, f)) }))];
}

function cpuNs(f) {
  const t = process.cpuUsage();
  f();
  const c = process.cpuUsage(t);
  return (c.user + c.system) * 1000;
}

function median(xs) { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; }

function requestRun(host, b) {
  const headers = { ':method': 'POST', ':path': PATHS[b.door], ':authority': 'gw.local', ':scheme': 'http',
    'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-request-id': 'bench-1' };
  return () => { const id = host.open(headers, b.bytes, RESPONSE_HEADERS); host.close(id); };
}

// Modules measured in alternation (ABAB...), so that both see the same machine load.
const mods = [['module', args.module || 'dist/bedrock_bridge.wasm']];
if (args.base) mods.push(['base', args.base]);
// Start-up: the first instance of each module only (V8 caches compiled code by module bytes, so a
// second compile of the same bytes in this process costs nothing).
const startup = {};
const hosts = {};
for (const [k, p] of mods) startup[k] = cpuNs(() => { hosts[k] = new FakeHost(p, { config: CONFIG }); });
const per = {};
for (const b of bodies()) {
  const runs = Object.fromEntries(mods.map(([k]) => [k, requestRun(hosts[k], b)]));
  for (const [k] of mods) {
    for (let i = 0; i < 5; i++) runs[k]();
    if (!String(hosts[k].maps[0].get('authorization') || '').startsWith('AWS4-HMAC-SHA256')) {
      throw new Error(`${k} ${b.name}: the request was not signed`);
    }
  }
  const xs = Object.fromEntries(mods.map(([k]) => [k, []]));
  for (let i = 0; i < n; i++) for (const [k] of mods) xs[k].push(cpuNs(runs[k]));
  per[b.name] = { bytes: b.bytes.length, ...Object.fromEntries(mods.map(([k]) => [k, median(xs[k])])) };
}
for (const [k, p] of mods) {
  console.log(`${k} ${p} (${fs.statSync(p).size} bytes): start-up ${(startup[k] / 1e6).toFixed(2)} ms CPU`
    + ' (compile, instantiate, configure)');
  for (const [name, v] of Object.entries(per)) {
    console.log(`  ${name} (${v.bytes} B): ${(v[k] / 1e3).toFixed(0)} us CPU per request (median of ${n})`);
  }
}
if (args.base) {
  console.log(`module - base: start-up ${((startup.module - startup.base) / 1e6).toFixed(2)} ms;`
    + Object.entries(per).map(([k, v]) => ` ${k} ${((v.module - v.base) / 1e3).toFixed(0)} us`).join(','));
}
