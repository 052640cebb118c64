// The Slack fake (slack-fake.ts) on a loopback HTTP server, for the suites that run `wrangler dev`
// (end to end, faults): point SLACK_API_URL at `apiUrl`. Node only.
import { createServer, type Server } from "node:http";
import { SlackFake } from "./slack-fake.ts";

export class SlackServer extends SlackFake {
  private server: Server | undefined;
  readonly port: number;

  constructor(port: number) {
    super();
    this.port = port;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  async listen(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", async () => {
        const headers = new Headers(Object.entries(request.headers).map(([k, v]): [string, string] => [k, String(v)]));
        const path = (request.url ?? "/").replace(/^\/api/, "");
        const answer = await this.answer(path, headers, Buffer.concat(chunks).toString("utf8"));
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
  }

  async close(): Promise<void> {
    if (!this.server) return;
    // The worker may hold keep-alive connections, which would keep close() waiting.
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
  }
}
