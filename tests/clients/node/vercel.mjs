// The Vercel AI SDK (`ai` 6.x) with `@ai-sdk/openai-compatible` (spec.provider "compatible") or
// `@ai-sdk/openai`'s chat model (spec.provider "openai"): generateText, streamText, tools, a
// multi-step tool loop (the SDK keeps the history), errors, generateObject.
import { APICallError, generateObject, generateText, stepCountIs, streamText, tool, jsonSchema } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { createOpenAI } from "@ai-sdk/openai";
import { z } from "zod";
import { main, toolRunner } from "./common.mjs";

const NAME = "bridge";

function model(spec) {
  if (spec.provider === "openai") {
    return createOpenAI({ baseURL: spec.base_url, apiKey: "sk-node-client", name: NAME }).chat(spec.model);
  }
  return createOpenAICompatible({ baseURL: spec.base_url, apiKey: "sk-node-client", name: NAME }).chatModel(spec.model);
}

function options(spec) {
  if (!spec.reasoning_effort) return {};
  const o = { reasoningEffort: spec.reasoning_effort };
  // @ai-sdk/openai only sends reasoning_effort for models it knows reason, unless forced.
  if (spec.provider === "openai") return { providerOptions: { openai: { ...o, forceReasoning: true } } };
  return { providerOptions: { [NAME]: o } };
}

function tools(spec, runner) {
  const out = {};
  for (const t of spec.tools || []) {
    const def = { description: t.function.description, inputSchema: jsonSchema(t.function.parameters) };
    if (runner) def.execute = (args) => runner.run(t.function.name, args);
    out[t.function.name] = tool(def);
  }
  return out;
}

const base = (spec) => ({ model: model(spec), prompt: spec.prompt, maxRetries: 0, ...options(spec) });
const Weather = z.object({ city: z.string(), temperature_c: z.number(), conditions: z.array(z.string()) });

await main({
  async plain(spec) {
    const r = await generateText(base(spec));
    return { text: r.text, reasoning: r.reasoningText ?? null, finish_reason: r.finishReason, usage: r.usage };
  },
  async stream(spec) {
    const r = streamText({ ...base(spec), onError: () => {} });
    let text = "", deltas = 0;
    for await (const t of r.textStream) { text += t; deltas += 1; }
    return { text, reasoning: (await r.reasoningText) ?? null, deltas, finish_reason: await r.finishReason };
  },
  async tools(spec) {
    const r = await generateText({ ...base(spec), tools: tools(spec, null) });
    return { tool_calls: r.toolCalls.map((t) => ({ id: t.toolCallId, name: t.toolName, arguments: t.input })), finish_reason: r.finishReason };
  },
  async tool_loop(spec) {
    const runner = toolRunner(spec);
    const r = await generateText({ ...base(spec), tools: tools(spec, runner), stopWhen: stepCountIs(spec.max_turns || 6) });
    return { text: r.text, reasoning: r.reasoningText ?? null, turns: r.steps.length, executed: runner.executed, messages: r.response.messages };
  },
  async tool_loop_stream(spec) {
    const runner = toolRunner(spec);
    let failure = null;
    const r = streamText({ ...base(spec), tools: tools(spec, runner), stopWhen: stepCountIs(spec.max_turns || 6), onError: ({ error }) => { failure = error; } });
    let text = "";
    for await (const t of r.textStream) text += t;
    if (failure) throw failure;
    const steps = await r.steps;
    return { text, turns: steps.length, executed: runner.executed, messages: (await r.response).messages };
  },
  async error(spec) {
    if (spec.stream) {
      let failure = null;
      const r = streamText({ ...base(spec), onError: ({ error }) => { failure = error; } });
      for await (const _ of r.textStream) { /* drain */ }
      if (failure) throw failure;
      return { error: null };
    }
    await generateText(base(spec));
    return { error: null };
  },
  async structured(spec) {
    const r = await generateObject({ ...base(spec), schema: Weather, schemaName: "Weather" });
    return { parsed: r.object };
  },
});
