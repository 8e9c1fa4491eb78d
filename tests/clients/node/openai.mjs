// openai-node (the `openai` package, 6.x): create, streaming, tools, its own tool loop
// (`runTools`), the `chat.completions.stream()` helper's accumulated message sent back, errors,
// structured output with `chat.completions.parse` + zodResponseFormat.
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { main, toolRunner } from "./common.mjs";

const client = (spec) => new OpenAI({ baseURL: spec.base_url, apiKey: "sk-node-client", maxRetries: 0, timeout: 30000 });
const extra = (spec) => (spec.reasoning_effort ? { reasoning_effort: spec.reasoning_effort } : {});
const user = (spec) => [{ role: "user", content: spec.prompt }];
const calls = (msg) => (msg.tool_calls || []).map((t) => ({ id: t.id, name: t.function.name, arguments: JSON.parse(t.function.arguments) }));

// A manual agent loop as openai-node's docs write it: the assistant message the SDK returned
// goes back as it is, followed by one tool message per call.
async function loop(spec, turn) {
  const tools = toolRunner(spec);
  const messages = user(spec);
  for (let i = 0; i < (spec.max_turns || 6); i++) {
    const msg = await turn(messages);
    messages.push(msg);
    if (!msg.tool_calls || msg.tool_calls.length === 0) {
      return { text: msg.content, reasoning: msg.reasoning ?? null, turns: i + 1, executed: tools.executed, messages };
    }
    for (const t of msg.tool_calls) {
      const content = await tools.run(t.function.name, JSON.parse(t.function.arguments));
      messages.push({ role: "tool", tool_call_id: t.id, content });
    }
  }
  throw new Error("too many turns");
}

const Weather = z.object({ city: z.string(), temperature_c: z.number(), conditions: z.array(z.string()) });

await main({
  async plain(spec) {
    const r = await client(spec).chat.completions.create({ model: spec.model, messages: user(spec), ...extra(spec) });
    const m = r.choices[0].message;
    return { text: m.content, reasoning: m.reasoning ?? null, finish_reason: r.choices[0].finish_reason, usage: r.usage };
  },
  async stream(spec) {
    const s = await client(spec).chat.completions.create({ model: spec.model, messages: user(spec), stream: true, ...extra(spec) });
    let text = "", reasoning = "", deltas = 0, finish = null;
    for await (const c of s) {
      for (const ch of c.choices) {
        if (ch.delta.content) { text += ch.delta.content; deltas += 1; }
        reasoning += ch.delta.reasoning ?? "";
        finish = ch.finish_reason ?? finish;
      }
    }
    return { text, reasoning, deltas, finish_reason: finish };
  },
  async tools(spec) {
    const r = await client(spec).chat.completions.create({ model: spec.model, messages: user(spec), tools: spec.tools, ...extra(spec) });
    return { tool_calls: calls(r.choices[0].message), finish_reason: r.choices[0].finish_reason };
  },
  // The SDK's own loop: runTools executes the functions and keeps the history.
  async tool_loop(spec) {
    const c = client(spec);
    const tools = toolRunner(spec);
    const fns = spec.tools.map((t) => ({ type: "function", function: {
      name: t.function.name, description: t.function.description, parameters: t.function.parameters,
      parse: JSON.parse, function: (args) => tools.run(t.function.name, args) } }));
    const runner = c.chat.completions.runTools({ model: spec.model, messages: user(spec), tools: fns, ...extra(spec) });
    const text = await runner.finalContent();
    const messages = runner.messages;
    return { text, turns: messages.filter((m) => m.role === "assistant").length, executed: tools.executed, messages };
  },
  // The stream helper's final message (pieces merged with Object.assign) sent back as history.
  async tool_loop_stream(spec) {
    const c = client(spec);
    return loop(spec, async (messages) => {
      const s = c.chat.completions.stream({ model: spec.model, messages, tools: spec.tools, ...extra(spec) });
      const done = await s.finalChatCompletion();
      return done.choices[0].message;
    });
  },
  async tool_loop_create(spec) {
    const c = client(spec);
    return loop(spec, async (messages) => {
      const r = await c.chat.completions.create({ model: spec.model, messages, tools: spec.tools, ...extra(spec) });
      return r.choices[0].message;
    });
  },
  async error(spec) {
    await client(spec).chat.completions.create({ model: spec.model, messages: user(spec), stream: !!spec.stream });
    return { error: null };
  },
  async structured(spec) {
    const r = await client(spec).chat.completions.parse({
      model: spec.model, messages: user(spec), response_format: zodResponseFormat(Weather, "Weather"), ...extra(spec) });
    return { parsed: r.choices[0].message.parsed, text: r.choices[0].message.content };
  },
});
