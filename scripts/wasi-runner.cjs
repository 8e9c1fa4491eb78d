#!/usr/bin/env node
'use strict';
// Cargo's runner for wasm32-wasip1 test binaries: runs one in Node's V8 through node:wasi, with
// the workspace readable at its own path (the fixture tests open files by absolute path).
//   CARGO_TARGET_WASM32_WASIP1_RUNNER="node scripts/wasi-runner.cjs" cargo test --target wasm32-wasip1
const fs = require('fs');
const path = require('path');
const { WASI } = require('node:wasi');

const [file, ...args] = process.argv.slice(2);
const root = path.resolve(__dirname, '..');
const wasi = new WASI({
  version: 'preview1',
  args: [path.basename(file), ...args],
  env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PROPTEST_'))),
  preopens: { [root]: root },
  returnOnExit: true,
});
const wasm = new WebAssembly.Module(fs.readFileSync(file));
// The filter's host calls (proxy-wasm's `env` imports) have no host here: each answers
// BadArgument (2), as the native stubs of src/host.rs do.
const imports = wasi.getImportObject();
for (const imp of WebAssembly.Module.imports(wasm)) {
  if (imp.module === 'env' && imp.kind === 'function') (imports.env ??= {})[imp.name] = () => 2;
}
const instance = new WebAssembly.Instance(wasm, imports);
let code;
try {
  // A test binary exports `_initialize` next to `_start` (the filter is a cdylib reactor);
  // node:wasi refuses that for a command, so hand it just what a command needs.
  const { _start, memory } = instance.exports;
  code = wasi.start({ exports: { _start, memory } });
} catch (e) {
  // A panic in a test aborts the module (wasm32 has no unwinding): report it as a failure.
  console.error(`${path.basename(file)}: aborted: ${e.message}`);
  code = 101;
}
process.exitCode = code;
