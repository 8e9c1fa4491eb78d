'use strict';
// A tiny fake proxy-wasm host (ABI 0.2.1) for Node's V8: enough of Envoy's imports to drive a
// filter module through one HTTP stream at a time, counting every host call and the bytes that
// cross the boundary. Not Envoy: no dispatch, no buffering, no stats; the point is the module's
// own work per call, deterministic and profilable (`node --cpu-prof`).
const fs = require('fs');

const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2;
const utf8 = new TextDecoder();
const enc = new TextEncoder();

class FakeHost {
  constructor(wasmPath, { config = '', log = false } = {}) {
    this.config = enc.encode(config);
    this.logging = log;
    this.maps = [new Map(), new Map(), new Map(), new Map()]; // request/response headers/trailers
    this.buffers = { 0: new Uint8Array(0), 1: new Uint8Array(0), 7: this.config };
    this.calls = {};       // import name -> count
    this.out = new Uint8Array(1 << 16); // the last body written by the module (reused)
    this.outLen = 0;
    this.memBuffer = null;
    this.bytesIn = 0;      // bytes the host copied into wasm memory
    this.bytesOut = 0;     // bytes the host copied out of wasm memory
    this.localReply = null;
    const module = new WebAssembly.Module(fs.readFileSync(wasmPath));
    const env = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.module !== 'env') continue;
      const f = this[imp.name] ? this[imp.name].bind(this) : () => BAD_ARGUMENT;
      const name = imp.name;
      const calls = this.calls;
      calls[name] = 0;
      env[name] = (a, b, c, d, e, g, h, i) => { calls[name]++; return f(a, b, c, d, e, g, h, i); };
    }
    const wasi = {
      random_get: (p, n) => { this.u8().fill(7, p, p + n); return 0; },
      environ_sizes_get: (c, s) => { this.dv().setUint32(c, 0, true); this.dv().setUint32(s, 0, true); return 0; },
      environ_get: () => 0,
      fd_write: (fd, iovs, n, written) => { this.dv().setUint32(written, 0, true); return 0; },
      proc_exit: (code) => { throw new Error(`proc_exit(${code})`); },
    };
    this.instance = new WebAssembly.Instance(module, { env, wasi_snapshot_preview1: wasi });
    this.x = this.instance.exports;
    if (this.x._initialize) this.x._initialize();
    else if (this.x._start) this.x._start();
    this.rootId = 1;
    this.nextId = 2;
    this.x.proxy_on_context_create(this.rootId, 0);
    if (!this.x.proxy_on_vm_start(this.rootId, 0)) throw new Error('vm start refused');
    if (!this.x.proxy_on_configure(this.rootId, this.config.length)) throw new Error('configure refused');
  }

  /** Views of linear memory, renewed only when it has grown (which detaches the old buffer). */
  views() {
    const buf = this.x.memory.buffer;
    if (buf !== this.memBuffer) {
      this.memBuffer = buf;
      this.memU8 = new Uint8Array(buf);
      this.memDv = new DataView(buf);
    }
  }
  u8() { this.views(); return this.memU8; }
  dv() { this.views(); return this.memDv; }
  str(p, n) { return utf8.decode(this.u8().subarray(p, p + n)); }

  /** Copy `bytes` into memory the module allocates; write (ptr, len) to the out-pointers. */
  give(bytes, retPtr, retSize) {
    const p = bytes.length ? this.x.proxy_on_memory_allocate(bytes.length) : 0;
    if (bytes.length) this.u8().set(bytes, p);
    const dv = this.dv();
    dv.setUint32(retPtr, p, true);
    dv.setUint32(retSize, bytes.length, true);
    this.bytesIn += bytes.length;
    return OK;
  }

  // ---- imports -------------------------------------------------------------------------
  proxy_log(level, p, n) { if (this.logging) console.error(`wasm log [${level}]: ${this.str(p, n)}`); return OK; }
  proxy_get_current_time_nanoseconds(ret) { this.dv().setBigUint64(ret, 1764000000000000000n, true); return OK; }
  proxy_get_property() { return NOT_FOUND; }
  proxy_set_property() { return OK; }
  proxy_get_buffer_bytes(t, start, max, retPtr, retSize) {
    const b = this.buffers[t];
    if (!b) return NOT_FOUND;
    start >>>= 0; max >>>= 0; // wasm32 usize arrives as a signed i32 (usize::MAX = -1)
    return this.give(b.subarray(start, Math.min(b.length, start + max)), retPtr, retSize);
  }
  proxy_set_buffer_bytes(t, start, size, p, n) {
    const b = this.buffers[t];
    if (!b) return NOT_FOUND;
    this.bytesOut += n;
    if (t === 1 && start === 0 && size === b.length) {
      // The response body replaced whole, as the filters do: one copy out of wasm memory.
      if (this.out.length < n) this.out = new Uint8Array(2 * n);
      this.out.set(this.u8().subarray(p, p + n));
      this.outLen = n;
      this.buffers[t] = this.out.subarray(0, n);
      return OK;
    }
    const data = this.u8().slice(p, p + n);
    const out = new Uint8Array(b.length - size + n);
    out.set(b.subarray(0, start));
    out.set(data, start);
    out.set(b.subarray(start + size), start + n);
    this.buffers[t] = out;
    return OK;
  }
  proxy_get_header_map_value(t, kp, kn, retPtr, retSize) {
    const v = this.maps[t].get(this.str(kp, kn));
    if (v === undefined) return NOT_FOUND;
    return this.give(enc.encode(v), retPtr, retSize);
  }
  proxy_get_header_map_pairs(t, retPtr, retSize) {
    const pairs = [...this.maps[t]].map(([k, v]) => [enc.encode(k), enc.encode(v)]);
    let size = 4 + pairs.length * 8;
    for (const [k, v] of pairs) size += k.length + v.length + 2;
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, pairs.length, true);
    let at = 4 + pairs.length * 8;
    pairs.forEach(([k, v], i) => {
      dv.setUint32(4 + i * 8, k.length, true);
      dv.setUint32(8 + i * 8, v.length, true);
      out.set(k, at); at += k.length + 1;
      out.set(v, at); at += v.length + 1;
    });
    return this.give(out, retPtr, retSize);
  }
  proxy_replace_header_map_value(t, kp, kn, vp, vn) { this.maps[t].set(this.str(kp, kn), this.str(vp, vn)); return OK; }
  proxy_add_header_map_value(t, kp, kn, vp, vn) { this.maps[t].set(this.str(kp, kn), this.str(vp, vn)); return OK; }
  proxy_remove_header_map_value(t, kp, kn) { this.maps[t].delete(this.str(kp, kn)); return OK; }
  proxy_send_local_response(status, dp, dn, bp, bn) { this.localReply = { status, body: this.str(bp, bn) }; return OK; }
  proxy_set_effective_context() { return OK; }
  proxy_done() { return OK; }
  proxy_get_status() { return NOT_FOUND; }

  // ---- driving one stream ------------------------------------------------------------------
  /** Start a stream: request headers and body, then upstream response headers. */
  open(requestHeaders, requestBody, responseHeaders) {
    const id = this.nextId++;
    this.maps[0] = new Map(Object.entries(requestHeaders));
    this.maps[2] = new Map(Object.entries(responseHeaders));
    this.localReply = null;
    this.x.proxy_on_context_create(id, this.rootId);
    this.x.proxy_on_request_headers(id, this.maps[0].size, 0);
    this.buffers[0] = requestBody;
    this.x.proxy_on_request_body(id, requestBody.length, 1);
    if (this.localReply) throw new Error(`local reply ${this.localReply.status}: ${this.localReply.body}`);
    this.x.proxy_on_response_headers(id, this.maps[2].size, 0);
    return id;
  }

  /** One response body chunk; returns what the module left in the body buffer. */
  responseBody(id, chunk, endOfStream) {
    this.buffers[1] = chunk;
    this.x.proxy_on_response_body(id, chunk.length, endOfStream ? 1 : 0);
    return this.buffers[1];
  }

  close(id) {
    this.x.proxy_on_done(id);
    this.x.proxy_on_log(id);
    this.x.proxy_on_delete(id);
  }

  resetCounts() { for (const k in this.calls) this.calls[k] = 0; this.bytesIn = 0; this.bytesOut = 0; }
}

module.exports = { FakeHost };
