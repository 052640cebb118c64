// A webhook target on loopback: records every delivery and answers 200, so that a test can wait
// for the webhook a widget action causes (the dev server allows private targets in this suite).
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { sleep } from "../support/pace.ts";

export interface Delivery {
  /** Date.now() when the whole body had arrived. */
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON (the text when it is not JSON). */
  body: any;
}

export interface WebhookTarget {
  origin: string;
  /** A fresh path on the target, so that each test's deliveries are kept apart. */
  hook: (name: string) => Hook;
  close: () => Promise<void>;
}

export interface Hook {
  url: string;
  deliveries: () => Delivery[];
  /**
   * Waits for a delivery whose body satisfies `match` (e.g. a trigger and a text), failing after
   * `timeoutMs` with what did arrive.
   */
  waitFor: (what: string, match: (body: any) => boolean, timeoutMs?: number) => Promise<Delivery>;
}

export async function startWebhookTarget(): Promise<WebhookTarget> {
  const received = new Map<string, Delivery[]>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const path = request.url ?? "";
      const text = Buffer.concat(chunks).toString("utf8");
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text.
      }
      const list = received.get(path);
      list?.push({ at: Date.now(), path, headers: request.headers, body });
      response.writeHead(list ? 200 : 404, { "content-type": "text/plain" }).end(list ? "ok" : "unknown hook");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  let hooks = 0;
  return {
    origin,
    hook: (name) => {
      const path = `/hooks/${++hooks}-${encodeURIComponent(name)}`;
      received.set(path, []);
      const deliveries = () => received.get(path)!;
      return {
        url: `${origin}${path}`,
        deliveries,
        waitFor: async (what, match, timeoutMs = 15_000) => {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const found = deliveries().find((d) => match(d.body));
            if (found) return found;
            if (Date.now() > deadline) {
              const seen = deliveries().map((d) => `  ${JSON.stringify(d.body).slice(0, 300)}`).join("\n") || "  none";
              throw new Error(`no webhook ${what} within ${timeoutMs} ms; deliveries to this hook:\n${seen}`);
            }
            await sleep(50);
          }
        },
      };
    },
    close: async () => {
      // The worker may hold keep-alive connections, which would keep close() waiting.
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
