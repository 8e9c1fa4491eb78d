'use strict';
// The in-Envoy benchmark's ConverseStream (bench/envoy/upstream.py build_frames), in JS: the
// same frames, with a fixed stamp instead of the send time.
const enc = new TextEncoder();
const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function frame(headers, payload) {
  const hb = [];
  for (const [k, v] of Object.entries(headers)) {
    const kb = enc.encode(k), vb = enc.encode(v);
    hb.push(kb.length, ...kb, 7, vb.length >> 8, vb.length & 0xff, ...vb);
  }
  const total = 16 + hb.length + payload.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, total);
  dv.setUint32(4, hb.length);
  dv.setUint32(8, crc32(out.subarray(0, 8)));
  out.set(hb, 12);
  out.set(payload, 12 + hb.length);
  dv.setUint32(total - 4, crc32(out.subarray(0, total - 4)));
  return out;
}

const event = (kind, payload) =>
  frame({ ':event-type': kind, ':content-type': 'application/json', ':message-type': 'event' },
    enc.encode(JSON.stringify(payload)));

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PAD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** The frames of one stream: messageStart, `reasoning` reasoning deltas, a signature, stop,
 * `content` text deltas of 8 characters, stop, messageStop, metadata. */
function buildFrames(reasoning = 20, content = 5000, stamp = '0a1b2c') {
  const out = [event('messageStart', { p: 'abcdefghijk', role: 'assistant' })];
  for (let i = 0; i < reasoning; i++) {
    out.push(event('contentBlockDelta', { contentBlockIndex: 0,
      delta: { reasoningContent: { text: ' ' + stamp + B62[i % 62] } }, p: PAD.slice(0, 1 + i % 40) }));
  }
  out.push(event('contentBlockDelta', { contentBlockIndex: 0,
    delta: { reasoningContent: { signature: 'EqQBCkgIARABGAIiQMZ3c2lnbmF0dXJl' } }, p: 'abc' }));
  out.push(event('contentBlockStop', { contentBlockIndex: 0, p: 'abcdefgh' }));
  for (let i = 0; i < content; i++) {
    out.push(event('contentBlockDelta', { contentBlockIndex: 1, delta: { text: ' ' + stamp + B62[i % 62] },
      p: PAD.slice(0, 1 + i % 40) }));
  }
  out.push(event('contentBlockStop', { contentBlockIndex: 1, p: 'abcdefgh' }));
  out.push(event('messageStop', { p: 'abcdef', stopReason: 'end_turn' }));
  out.push(event('metadata', { metrics: { latencyMs: 1234 }, p: 'abc',
    usage: { inputTokens: 10, outputTokens: reasoning + content, totalTokens: 10 + reasoning + content } }));
  return out;
}

/** Group frames into body chunks of `burst` frames each (Envoy hands over what one read got). */
function chunks(frames, burst) {
  const out = [];
  for (let i = 0; i < frames.length; i += burst) {
    const group = frames.slice(i, i + burst);
    const c = new Uint8Array(group.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of group) { c.set(f, at); at += f.length; }
    out.push(c);
  }
  return out;
}

module.exports = { buildFrames, chunks, crc32 };
