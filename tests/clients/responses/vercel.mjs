// The Vercel AI SDK's @ai-sdk/openai responses model against the filter: generateText with
// reasoning, streamText, and a tool loop with reasoning (store: false, so reasoning travels as
// encrypted_content). Prints one JSON line of results.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText, tool, stepCountIs, jsonSchema } from "ai";

const openai = createOpenAI({ baseURL: process.argv[2], apiKey: "sk-vercel" });
const model = openai.responses("claude");
// forceReasoning: the SDK only sends `reasoning` for model ids it knows reason (o-series, gpt-5).
const providerOptions = { openai: { store: false, forceReasoning: true, reasoningEffort: "low", reasoningSummary: "auto" } };
const out = {};

const g = await generateText({ model, prompt: "hi vercel", providerOptions, maxRetries: 0 });
out.generate = g.text;
out.reasoning = g.reasoningText ?? "";

const s = streamText({ model, prompt: "stream vercel", providerOptions, maxRetries: 0 });
let text = "";
for await (const t of s.textStream) text += t;
out.stream = text;

const loop = await generateText({
  model,
  prompt: "USE_TOOL: weather in Paris?",
  providerOptions,
  maxRetries: 0,
  stopWhen: stepCountIs(3),
  tools: {
    get_weather: tool({
      description: "Weather in a city.",
      inputSchema: jsonSchema({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }),
      execute: async ({ city }) => `sunny in ${city}`,
    }),
  },
});
out.loop = loop.text;
console.log(JSON.stringify(out));
