// Slow target: every answer takes longer than a queue batch's time budget. The consumer settles
// each delivery on its own and puts back, untried, what the budget did not reach: the target must
// receive each delivery exactly once, and the log must count one attempt for each.
import { startDevServer, type DevServer } from "../support/dev-server.ts";
import { sleep } from "../support/pace.ts";
import { createApp, expectStatus, Failures, figures, initUsers, WebhookTarget } from "./lib.ts";

const BUDGET_SECONDS = "1";
const ANSWER_AFTER_MS = 1_500;
const USERS = 2;
const POSTS_PER_USER = 5;
/** Each conversation's deliveries go one after the other: 5 × 1.5 s, plus queue batching. */
const DELIVERY_WAIT_MS = 60_000;

export async function slowTarget(): Promise<string[]> {
  const failures = new Failures();
  const target = new WebhookTarget();
  target.answerAfterMs = ANSWER_AFTER_MS;
  let server: DevServer | undefined;
  try {
    await target.listen(0);
    server = await startDevServer({
      vars: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_BASE_SECONDS: "1", WEBHOOK_BATCH_BUDGET_SECONDS: BUDGET_SECONDS },
    });
    const { baseUrl } = server;
    const app = await createApp(baseUrl, server.account, "faults slow target");
    const { webhook } = await expectStatus(baseUrl, "POST", "/v1/webhooks", 201, {
      jwt: app.appJwt,
      body: { target: target.url, triggers: ["message:appUser"] },
    });
    const users = await initUsers(baseUrl, app, "slow", USERS);

    // A burst, so that each queue batch holds several deliveries of one conversation.
    const posted = (
      await Promise.all(
        users.flatMap((user) =>
          Array.from({ length: POSTS_PER_USER }, (_, i) =>
            expectStatus(baseUrl, "POST", `/v1/appusers/${user.id}/messages`, 201, {
              jwt: user.jwt,
              body: { role: "appUser", text: `slow #${i}` },
            }),
          ),
        ),
      )
    ).map((json) => json.message._id as string);
    const started = Date.now();
    const deadline = started + DELIVERY_WAIT_MS;
    while (posted.some((id) => !target.deliveredIds().has(id)) && Date.now() < deadline) await sleep(250);
    // Room for a duplicate to show up, were there one.
    await sleep(3 * ANSWER_AFTER_MS);

    const arrivals = new Map<string, number>();
    for (const a of target.delivered) arrivals.set(a.deliveryId, (arrivals.get(a.deliveryId) ?? 0) + 1);
    const repeated = [...arrivals.values()].filter((n) => n > 1).length;
    const missing = posted.filter((id) => !target.deliveredIds().has(id)).length;
    failures.check(missing === 0, `${missing} of ${posted.length} deliveries never arrived`);
    failures.check(repeated === 0, `${repeated} deliveries arrived more than once`);
    failures.check(target.delivered.length === posted.length, `${target.delivered.length} arrivals for ${posted.length} messages`);

    const { deliveries } = await expectStatus(baseUrl, "GET", `/v1/webhooks/${webhook._id}/deliveries?limit=100`, 200, { jwt: app.appJwt });
    const notOnce = deliveries.filter((row: { attempts: number; outcome: string }) => row.attempts !== 1 || row.outcome !== "delivered");
    failures.check(deliveries.length === posted.length, `${deliveries.length} delivery records for ${posted.length} messages`);
    failures.check(notOnce.length === 0, `${notOnce.length} deliveries logged as other than delivered at the first attempt`);

    figures([
      ["batch budget / target answers after", `${BUDGET_SECONDS} s / ${ANSWER_AFTER_MS / 1000} s`],
      ["messages posted (conversations)", `${posted.length} (${USERS})`],
      ["arrivals / distinct / repeated / missing", `${target.delivered.length} / ${arrivals.size} / ${repeated} / ${missing}`],
      ["all delivered after the burst", `${((Math.max(...target.delivered.map((a) => a.at)) - started) / 1000).toFixed(1)} s`],
    ]);
  } finally {
    await server?.stop();
    await target.close();
  }
  return failures.list;
}
