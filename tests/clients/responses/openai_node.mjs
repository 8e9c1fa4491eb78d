// openai-node against the filter's Responses API: create, stream (with the stream helper), and a
// tool loop with reasoning. Prints one JSON line of results.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "sk-node", maxRetries: 0 });
const out = {};

const r = await client.responses.create({ model: "claude", input: "hi node" });
out.create = r.output_text;

const stream = client.responses.stream({ model: "claude", input: "stream node", reasoning: { effort: "low" } });
let text = "";
const seqs = [];
for await (const ev of stream) {
  seqs.push(ev.sequence_number);
  if (ev.type === "response.output_text.delta") text += ev.delta;
}
const final = await stream.finalResponse();
out.stream_text = text;
// finalResponse() has no output_text helper field: read the message items.
out.final_text = final.output.filter((o) => o.type === "message").flatMap((o) => o.content).map((c) => c.text).join("");
out.seq_ok = seqs.every((s, i) => s === i);

const tools = [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }, strict: false }];
const input = [{ role: "user", content: "USE_TOOL: weather?" }];
const r1 = await client.responses.create({ model: "claude", input, tools, reasoning: { effort: "low" } });
const call = r1.output.find((o) => o.type === "function_call");
input.push(...r1.output, { type: "function_call_output", call_id: call.call_id, output: "sunny" });
const r2 = await client.responses.create({ model: "claude", input, tools, reasoning: { effort: "low" } });
out.loop = r2.output_text;
console.log(JSON.stringify(out));
