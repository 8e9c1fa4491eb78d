// Shared by the Node drivers: read the scenario (JSON on stdin), run it, print one JSON result.
// The protocol is described in tests/clients/README.md.
import { readFileSync } from "node:fs";

export function readSpec() {
  const raw = process.argv[2] ?? readFileSync(0, "utf8");
  return JSON.parse(raw);
}

// The simulator answers each model id from one scenario; a tool loop advances by the tool itself
// installing the answer of the next turn (spec.on_tool[k] is posted on the k-th tool execution),
// so the client's own loop sends every turn.
export function toolRunner(spec) {
  let calls = 0;
  const executed = [];
  return {
    executed,
    async run(name, args) {
      const hook = (spec.on_tool || [])[calls];
      calls += 1;
      executed.push({ name, args });
      if (hook) {
        const r = await fetch(hook.url, { method: "POST", body: JSON.stringify(hook.body) });
        if (!r.ok) throw new Error(`hook ${hook.url}: ${r.status}`);
      }
      const results = spec.tool_results || {};
      return results[args.city] ?? `no data for ${args.city}`;
    },
  };
}

export function describeError(e) {
  if (!e || typeof e !== "object") return { type: typeof e, message: String(e) };
  const headers = e.headers ?? e.responseHeaders ?? null;
  let retryAfter = null;
  if (headers) retryAfter = typeof headers.get === "function" ? headers.get("retry-after") : headers["retry-after"] ?? null;
  return {
    type: e.constructor?.name ?? "Error",
    status: e.status ?? e.statusCode ?? null,
    message: String(e.message ?? ""),
    retry_after: retryAfter ?? null,
    body: e.error ?? e.responseBody ?? null,
  };
}

export async function main(scenarios) {
  const spec = readSpec();
  const fn = scenarios[spec.scenario];
  let out;
  if (!fn) {
    out = { unsupported: true };
  } else {
    try {
      out = await fn(spec);
    } catch (e) {
      out = { error: describeError(e) };
    }
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
