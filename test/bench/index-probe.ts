// Scenario 11's measuring end, in its own process so that the load generator's busy event loop
// does not delay its clocks: posts sampled messages during a posting load, each to a user the load
// does not post to, and polls the conversation list (filtered to that user) until the message shows
// as its conversation's lastMessage: the index lag, from the post's 201 to that answer.
import { performance } from "node:perf_hooks";
import { sleep } from "../support/pace.ts";

export interface LagRequest {
  baseUrl: string;
  appToken: string;
  appJwt: string;
  /** One user per sample, none of them posted to by the load: `_id` and `userId`. */
  users: { id: string; userId: string }[];
  startDelayMs: number;
  intervalMs: number;
  /** Between two looks at the list for one sample. */
  pollMs: number;
  /** How long a sample waits for its message before counting it missing. */
  awaitMs: number;
}

export interface LagResult {
  posted: number;
  postFailures: number;
  /** Milliseconds from each sampled message's 201 to the list answer showing it. */
  lags: number[];
  missing: number;
  /** List requests sent while sampling, and those not answered 200. */
  polls: number;
  pollFailures: number;
}

const now = () => performance.now();

async function lag(request: LagRequest): Promise<LagResult> {
  const result: LagResult = { posted: 0, postFailures: 0, lags: [], missing: 0, polls: 0, pollFailures: 0 };
  const listed = async (userId: string): Promise<string | undefined> => {
    result.polls++;
    try {
      // Each sampled userId (bench-user-250 and up) is contained in no other userId.
      const response = await fetch(`${request.baseUrl}/v1/conversations?limit=1&q=${encodeURIComponent(userId)}`, {
        headers: { authorization: `Bearer ${request.appJwt}` },
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(String(response.status));
      const { conversations } = (await response.json()) as { conversations: { lastMessage: { _id: string } | null }[] };
      return conversations[0]?.lastMessage?._id;
    } catch {
      result.pollFailures++;
      return undefined;
    }
  };
  const one = async (user: LagRequest["users"][number], i: number) => {
    let id: string;
    try {
      const response = await fetch(`${request.baseUrl}/v1/appusers/${user.id}/conversation/messages`, {
        method: "POST",
        headers: { "app-token": request.appToken, "content-type": "application/json" },
        body: JSON.stringify({ role: "appUser", text: `index lag sample ${i}` }),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status !== 201) throw new Error(String(response.status));
      id = ((await response.json()) as { message: { _id: string } }).message._id;
    } catch {
      result.postFailures++;
      return;
    }
    const acknowledged = now();
    result.posted++;
    while (now() - acknowledged < request.awaitMs) {
      if ((await listed(user.userId)) === id) {
        result.lags.push(now() - acknowledged);
        return;
      }
      await sleep(request.pollMs);
    }
    result.missing++;
  };
  await sleep(request.startDelayMs);
  const start = now();
  const samples: Promise<void>[] = [];
  for (const [i, user] of request.users.entries()) {
    await sleep(start + i * request.intervalMs - now());
    samples.push(one(user, i));
  }
  await Promise.all(samples);
  return result;
}

if (process.send) {
  // The benchmark that forked us is gone: nothing left to measure for.
  process.on("disconnect", () => process.exit(0));
  process.on("message", async (message: LagRequest) => process.send!(await lag(message)));
  process.send({ type: "ready" });
}
