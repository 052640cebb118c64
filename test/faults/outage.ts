// Target outage: the webhook target goes down for 10 seconds while messages keep coming, then
// comes back. Every delivery must arrive at least once, and the attempts of one delivery must all
// carry the same X-Parley-Delivery id.
import { startDevServer, type DevServer } from "../support/dev-server.ts";
import { sleep } from "../support/pace.ts";
import { createApp, expectStatus, Failures, figures, initUsers, request, WebhookTarget, type User } from "./lib.ts";

/** The first half refuses connections (nothing listens), the second half drops them unanswered. */
const REFUSED_MS = 5_000;
const RESET_MS = 5_000;
const POST_EVERY_MS = 250;
const POSTS_AROUND = 8;
/** Retries come after 1, 2, 4, 8 and 16 s: the last one 31 s after the first attempt. */
const RETRY_BASE_SECONDS = "1";
const DELIVERY_WAIT_MS = 60_000;

type Phase = "before" | "refused" | "reset" | "after";

interface Posted {
  id: string;
  phase: Phase;
}

export async function outage(): Promise<string[]> {
  const failures = new Failures();
  const target = new WebhookTarget();
  let server: DevServer | undefined;
  try {
    await target.listen(0);
    server = await startDevServer({
      vars: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_BASE_SECONDS: RETRY_BASE_SECONDS },
    });
    const { baseUrl } = server;
    const app = await createApp(baseUrl, server.account, "faults outage");
    const { webhook } = await expectStatus(baseUrl, "POST", "/v1/webhooks", 201, {
      jwt: app.appJwt,
      body: { target: target.url, triggers: ["message:appUser"] },
    });
    const users = await initUsers(baseUrl, app, "outage", 4);

    const posted: Posted[] = [];
    let refusedPosts = 0;
    const post = async (phase: Phase) => {
      const user: User = users[posted.length % users.length];
      const outcome = await request(baseUrl, "POST", `/v1/appusers/${user.id}/messages`, {
        jwt: user.jwt,
        body: { role: "appUser", text: `outage ${phase} #${posted.length}` },
      });
      if (outcome.status === 201 && "json" in outcome) posted.push({ id: outcome.json.message._id, phase });
      else refusedPosts++;
    };
    const postFor = async (phase: Phase, ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        await post(phase);
        await sleep(POST_EVERY_MS);
      }
    };
    const waitDelivered = async (ms: number) => {
      const deadline = Date.now() + ms;
      while (posted.some((p) => !target.deliveredIds().has(p.id)) && Date.now() < deadline) await sleep(250);
    };

    for (let i = 0; i < POSTS_AROUND; i++) await post("before");
    await waitDelivered(20_000);
    failures.check(posted.every((p) => target.deliveredIds().has(p.id)), "deliveries did not arrive before the outage");

    const downAt = Date.now();
    await target.close();
    await postFor("refused", REFUSED_MS);
    target.mode = "reset";
    await target.listen();
    await postFor("reset", Math.max(0, downAt + REFUSED_MS + RESET_MS - Date.now()));
    target.mode = "up";
    const upAt = Date.now();
    for (let i = 0; i < POSTS_AROUND; i++) await post("after");
    await waitDelivered(DELIVERY_WAIT_MS);

    const attempts = [...target.dropped, ...target.delivered];
    const idsOf = new Map<string, Set<string>>();
    for (const a of attempts) idsOf.set(a.messageId, (idsOf.get(a.messageId) ?? new Set()).add(a.deliveryId));
    const postedIds = new Set(posted.map((p) => p.id));
    const undelivered = posted.filter((p) => !target.deliveredIds().has(p.id));
    const changedId = [...idsOf.entries()].filter(([, ids]) => ids.size > 1);
    const retriedSeen = posted.filter((p) => target.dropped.some((a) => a.messageId === p.id) && target.deliveredIds().has(p.id));
    const strangers = attempts.filter((a) => !postedIds.has(a.messageId));
    failures.check(refusedPosts === 0, `${refusedPosts} posts were not acknowledged`);
    failures.check(undelivered.length === 0, `${undelivered.length} deliveries never arrived (${undelivered.map((p) => p.phase).join(", ")})`);
    failures.check(changedId.length === 0, `${changedId.length} deliveries changed X-Parley-Delivery between attempts`);
    failures.check(retriedSeen.length > 0, "no retry was observed at the target: the outage did not exercise retries");
    failures.check(strangers.length === 0, `${strangers.length} attempts for messages that were never posted`);

    // The delivery log agrees: one row per message, under the id the target saw, delivered.
    const { deliveries } = await expectStatus(baseUrl, "GET", `/v1/webhooks/${webhook._id}/deliveries?limit=100`, 200, { jwt: app.appJwt });
    const logOf = new Map<string, any[]>();
    for (const row of deliveries) logOf.set(row.messageId, [...(logOf.get(row.messageId) ?? []), row]);
    let logMismatch = 0;
    for (const p of posted) {
      const rows = logOf.get(p.id) ?? [];
      const seen = [...(idsOf.get(p.id) ?? [])];
      if (rows.length !== 1 || rows[0].outcome !== "delivered" || rows[0]._id !== seen[0]) logMismatch++;
    }
    failures.check(logMismatch === 0, `${logMismatch} messages whose delivery log is not one delivered row under the id the target saw`);
    // Each attempt the target saw dropped was followed by at least one more under the same id.
    const undercounted = posted.filter((p) => {
      const dropped = target.dropped.filter((a) => a.messageId === p.id).length;
      return dropped > 0 && !((logOf.get(p.id)?.[0]?.attempts ?? 0) > dropped);
    });
    failures.check(undercounted.length === 0, `${undercounted.length} deliveries logged fewer attempts than the target saw`);
    // A message posted just before the target came back may have had its first attempt after it.
    const outagePosts = posted.filter((p) => p.phase === "refused" || p.phase === "reset");
    const outageAttempts = outagePosts.map((p) => logOf.get(p.id)?.[0]?.attempts ?? 0);
    const recovered = outagePosts.map((p) => Math.min(...target.delivered.filter((a) => a.messageId === p.id).map((a) => a.at)));

    const count = (phase: Phase) => posted.filter((p) => p.phase === phase).length;
    figures([
      ["outage", `${((upAt - downAt) / 1000).toFixed(1)} s: ${REFUSED_MS / 1000} s connection refused, then ${RESET_MS / 1000} s connections dropped unanswered`],
      ["retry delays", `${RETRY_BASE_SECONDS} s base: 1, 2, 4, 8, 16 s`],
      ["messages posted before / refused / dropped / after", `${count("before")} / ${count("refused")} / ${count("reset")} / ${count("after")}`],
      ["attempts dropped at the target (seen, unanswered)", target.dropped.length],
      ["deliveries whose retry was seen with the same id", `${retriedSeen.length}; ids changed between attempts: ${changedId.length}`],
      ["delivered at least once", `${posted.length - undelivered.length} of ${posted.length}`],
      ["attempts per outage delivery (log)", `min ${Math.min(...outageAttempts)}, max ${Math.max(...outageAttempts)}`],
      ["all outage deliveries in, after target up", `${((Math.max(...recovered) - upAt) / 1000).toFixed(1)} s`],
      ["duplicate arrivals (at least once)", target.delivered.length - target.deliveredIds().size],
    ]);
  } finally {
    await server?.stop();
    await target.close();
  }
  return failures.list;
}
