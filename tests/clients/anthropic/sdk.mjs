// @anthropic-ai/sdk against the filter: messages.create, messages.stream with thinking, and a
// tool loop that sends the thinking and tool_use blocks back. Prints one JSON object.
// Usage: node sdk.mjs BASE_URL MODEL
import Anthropic from "@anthropic-ai/sdk";

const [baseURL, model] = process.argv.slice(2);
const client = new Anthropic({ baseURL, apiKey: "sk-ant-node-client", maxRetries: 0, timeout: 30000 });
const tools = [{ name: "cosine", description: "cosine of x",
  input_schema: { type: "object", properties: { x: { type: "number" } }, required: ["x"] } }];

const created = await client.messages.create({ model, max_tokens: 3000,
  thinking: { type: "enabled", budget_tokens: 1024 }, messages: [{ role: "user", content: "from node" }] });

const events = [];
const stream = client.messages.stream({ model, max_tokens: 3000, thinking: { type: "enabled", budget_tokens: 1024 },
  messages: [{ role: "user", content: "stream from node" }] });
stream.on("streamEvent", (e) => events.push(e.type));
const streamed = await stream.finalMessage();

// Tool loop: the test's simulator answers the first call with a recorded tool call.
const first = await client.messages.stream({ model: model + "-tools", max_tokens: 1000, tools,
  messages: [{ role: "user", content: "cosine of 7?" }] }).finalMessage();
const toolUse = first.content.find((b) => b.type === "tool_use");
const second = await client.messages.create({ model, max_tokens: 1000, tools, messages: [
  { role: "user", content: "cosine of 7?" },
  { role: "assistant", content: first.content },
  { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "0.7539" }] },
] });
let errorType = null;
try {
  await client.messages.create({ model, max_tokens: 0, messages: [{ role: "user", content: "x" }] });
} catch (e) {
  errorType = [e.status, e.error?.error?.type];
}
console.log(JSON.stringify({ created, events, streamed, first, second, errorType }));
