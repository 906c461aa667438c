import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One model reply: text, or tool calls with their arguments exactly as the wire carries them (a JSON string). */
export type Reply = { content: string } | { calls: Array<{ name: string; arguments: string }> };

interface WireMessage {
  role: string;
  content?: string | null;
}

/** Decides a reply from the model name, the first user message and how many assistant turns came before. */
export type Script = (model: string, user: string, turn: number, messages: WireMessage[]) => Reply;

/**
 * An OpenAI-compatible chat completions server on loopback that follows the published streaming
 * contract (server-sent `chat.completion.chunk` events, tool call arguments split across chunks,
 * a usage chunk, then `[DONE]`) and answers from a script.
 */
export async function startFakeOpenAi(
  script: Script,
): Promise<{ baseUrl: string; requests: number; close(): Promise<void> }> {
  const state = { requests: 0 };
  const server: Server = createServer(async (req, res) => {
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    state.requests++;
    const body = JSON.parse(await readBody(req)) as { model: string; messages: WireMessage[]; stream?: boolean };
    const user = body.messages.find((m) => m.role === "user")?.content ?? "";
    const turn = body.messages.filter((m) => m.role === "assistant").length;
    const reply = script(body.model, String(user), turn, body.messages);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const base = { id: "chatcmpl-test", object: "chat.completion.chunk", created: 0, model: body.model };
    const send = (value: unknown) => res.write(`data: ${JSON.stringify(value)}\n\n`);
    send({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
    if ("content" in reply) {
      const half = Math.ceil(reply.content.length / 2);
      for (const part of [reply.content.slice(0, half), reply.content.slice(half)]) {
        send({ ...base, choices: [{ index: 0, delta: { content: part }, finish_reason: null }] });
      }
      send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
    } else {
      reply.calls.forEach((call, index) => {
        const half = Math.ceil(call.arguments.length / 2);
        send({
          ...base,
          choices: [
            {
              index: 0,
              delta: {
                tool_calls: [
                  {
                    index,
                    id: `call_${index}`,
                    type: "function",
                    function: { name: call.name, arguments: call.arguments.slice(0, half) },
                  },
                ],
              },
              finish_reason: null,
            },
          ],
        });
        send({
          ...base,
          choices: [
            {
              index: 0,
              delta: { tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] },
              finish_reason: null,
            },
          ],
        });
      });
      send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] });
    }
    send({ ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
    res.end("data: [DONE]\n\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (text += chunk));
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}
