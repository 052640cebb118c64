// A loopback fake of Google's OAuth2 token endpoint and FCM HTTP v1, for the suites that run
// `wrangler dev` (end to end, faults): point GOOGLE_TOKEN_URL at `tokenUrl` and FCM_API_URL at
// `apiUrl`. It records every push and answers each device token as its script says. Node only.
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";

/** A push FCM received: the device token, the whole request body and when it arrived. */
export interface ReceivedPush {
  at: number;
  token: string;
  authorization: string;
  body: any;
}

/** How FCM answers one request: a status, with an FCM error code and a Retry-After when given. */
export interface FcmAnswer {
  status: number;
  errorCode?: string;
  retryAfterSeconds?: number;
}

/** A service account key file for project `projectId`, with a fresh RSA key, as Google issues them. */
export function serviceAccountFile(projectId = "parley-e2e") {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    type: "service_account",
    project_id: projectId,
    private_key_id: "0123456789abcdef0123456789abcdef01234567",
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    client_email: `parley@${projectId}.iam.gserviceaccount.com`,
    client_id: "100000000000000000000",
    token_uri: "https://oauth2.googleapis.com/token",
  };
}

export class FcmFake {
  readonly pushes: ReceivedPush[] = [];
  /** Every answer that was not a 200, in order: what the outage looked like from FCM's side. */
  readonly refused: Array<ReceivedPush & FcmAnswer> = [];
  tokenRequests = 0;
  /** Answers for a device token, in turn; once used up, or when none, 200. */
  private readonly scripts = new Map<string, FcmAnswer[]>();
  /** Answers every push with this while set, whatever the scripts say (an outage). */
  down: FcmAnswer | null = null;
  private server: Server | undefined;

  private readonly port: number;

  constructor(port: number) {
    this.port = port;
  }

  get origin() {
    return `http://127.0.0.1:${this.port}`;
  }
  get apiUrl() {
    return this.origin;
  }
  get tokenUrl() {
    return `${this.origin}/token`;
  }

  script(token: string, ...answers: FcmAnswer[]) {
    this.scripts.set(token, answers);
  }

  /** The pushes FCM accepted for a device token. */
  delivered(token: string) {
    return this.pushes.filter((push) => push.token === token);
  }

  async listen(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const path = request.url ?? "";
        if (request.method === "POST" && path === "/token") {
          this.tokenRequests++;
          response.writeHead(200, { "content-type": "application/json" });
          response.end(JSON.stringify({ access_token: `fake-access-token-${this.tokenRequests}`, expires_in: 3600, token_type: "Bearer" }));
          return;
        }
        if (request.method !== "POST" || !/^\/v1\/projects\/[^/]+\/messages:send$/.test(path)) {
          response.writeHead(404).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
        const token = String(body?.message?.token ?? "");
        const push = { at: Date.now(), token, authorization: String(request.headers.authorization ?? ""), body };
        const answer = this.down ?? this.scripts.get(token)?.shift() ?? { status: 200 };
        if (answer.status === 200) {
          this.pushes.push(push);
          response.writeHead(200, { "content-type": "application/json" });
          response.end(JSON.stringify({ name: `projects/${path.split("/")[3]}/messages/${this.pushes.length}` }));
          return;
        }
        this.refused.push({ ...push, ...answer });
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (answer.retryAfterSeconds !== undefined) headers["retry-after"] = String(answer.retryAfterSeconds);
        const details = answer.errorCode
          ? [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: answer.errorCode }]
          : [];
        response.writeHead(answer.status, headers);
        response.end(JSON.stringify({ error: { code: answer.status, message: answer.errorCode ?? "fake error", status: answer.errorCode ?? "UNAVAILABLE", details } }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.port, "127.0.0.1", resolve);
    });
  }

  async close(): Promise<void> {
    if (!this.server) return;
    // The worker may hold keep-alive connections, which would keep close() waiting.
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
    this.server = undefined;
  }
}
