'use strict';
// Self time per function of a V8 .cpuprofile (node --cpu-prof), highest first; with --phases,
// the module's self time by phase of the request path (by the crate and function names of a
// build with names: hashing, the rest of signing, reading JSON, serialising, allocating and
// freeing, the front door's translation, other module code), and the host's (JS) time.
//   node bench/v8/profile-summary.js FILE.cpuprofile [top=30 | --phases]
const fs = require('fs');
const prof = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const phases = process.argv[3] === '--phases';
const top = phases ? 30 : Number(process.argv[3] || 30);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  const n = byId.get(prof.samples[i]);
  const f = n.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url ? f.url.split('/').pop() : ''}`.trim();
  self.set(key, (self.get(key) || 0) + (dt[i] || 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
// First match wins; names are Rust v0-mangled (`…8fastjson4read…`), so crate names are substrings.
const PHASES = [
  ['hashing (SHA-256)', /sha2.*compress/],
  ['signing (SigV4 but the body hash)', /aws_sigv4|aws_smithy|aws_credential|hmac|4http|sha2|signing/],
  ['serialising', /fastjson5write|erased_serde|3ser|Serialize/],
  // Generic code instantiated in fastjson (BTreeMap inserts of the tree it builds) ends in its name.
  ['reading JSON', /fastjson|from_utf8|serde_json4read|serde_json2de|5value2de/],
  ['allocating and freeing', /^(dlmalloc|dlfree|malloc|free) |rdl_|rust_alloc|rust_dealloc|rust_no_alloc|raw_vec|[Dd]ying|drop|dealloc|realloc|6Global|Layout|alloc4unix|to_vec_in|^mem(cpy|move|set) /],
  ['front door and pipeline (lookups included)', /14bedrock_bridge|serde_json|btree/],
];
if (phases) {
  const by = new Map();
  for (const [k, v] of self) {
    const inModule = k.includes('.wasm');
    const fn = k.slice(0, k.lastIndexOf(' ')) + ' ';
    const name = inModule ? (PHASES.find(([, re]) => re.test(fn)) || ['other module code'])[0] : 'host (JS), outside the module';
    by.set(name, (by.get(name) || 0) + v);
  }
  for (const [k, v] of [...by].sort((a, b) => b[1] - a[1])) {
    console.log(`${(100 * v / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(1).padStart(8)} ms  ${k}`);
  }
  process.exit(0);
}
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(100 * v / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(1).padStart(8)} ms  ${k}`);
}
