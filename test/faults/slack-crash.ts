// Slack crash: SIGKILL `wrangler dev` while users write and their messages are being copied to a
// fake of Slack's Web API, at a moment the outbox on disk holds Slack jobs (between a stored
// message and its Slack post), restart on the same state, and check that every post the outbox
// held arrives exactly once, and that no message is posted twice.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts, signalGroup, startDevServer, type DevServer } from "../support/dev-server.ts";
import { accountJwt } from "../support/jwt.ts";
import { sleep } from "../support/pace.ts";
import { BOT_TOKEN, CHANNEL, SIGNING_SECRET } from "../support/slack-fake.ts";
import { SlackServer } from "../support/slack-server.ts";
import { readOutboxJobs } from "../support/workerd.ts";
import { allMessages, createApp, expectStatus, Failures, figures, initUsers, request, waitGroupGone } from "./lib.ts";

const USERS = 8;
const MAX_LOAD_MS = 30_000;
const MIN_POSTS = 40;
const KILL_PROBES = 100;
const WAIT_MS = 45_000;
const QUIET_MS = 5_000;
const PREFIX = "slack-crash";

/** The message ids of the Slack jobs in the conversations' outboxes on disk. */
const slackOutbox = (persistTo: string) => new Set(readOutboxJobs(persistTo, "slack").map((job) => job.messageId));

export async function slackCrash(): Promise<string[]> {
  const failures = new Failures();
  const persistTo = mkdtempSync(join(tmpdir(), "parley-faults-slack-"));
  const [slackPort] = await freePorts(1);
  const slack = new SlackServer(slackPort);
  const vars = { SLACK_API_URL: slack.apiUrl, SLACK_RETRY_BASE_SECONDS: "1" };
  let server: DevServer | undefined;
  try {
    await slack.listen();
    server = await startDevServer({ persistTo, vars });
    const account = server.account;
    let baseUrl = server.baseUrl;
    const app = await createApp(baseUrl, account, "faults slack crash");
    await expectStatus(baseUrl, "POST", `/v1/apps/${app.appId}/integrations`, 201, {
      jwt: await accountJwt(account),
      body: { type: "slack", botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, channelId: CHANNEL },
    });
    const users = await initUsers(baseUrl, app, PREFIX, USERS);

    // Each user writes one message after another; the messages' ids come back with the 201.
    const acked = new Map<string, string>();
    let sent = 0;
    let stop = false;
    const started = Date.now();
    const load = Promise.all(
      users.map(async (user) => {
        for (let seq = 0; !stop && Date.now() - started < MAX_LOAD_MS; seq++) {
          const text = `${PREFIX} ${user.userId} #${seq}`;
          sent++;
          const outcome = await request(baseUrl, "POST", `/v1/appusers/${user.id}/messages`, { jwt: user.jwt, body: { role: "appUser", text }, timeoutMs: 15_000 });
          if (outcome.status === 201 && "json" in outcome) acked.set(outcome.json.message._id, text);
        }
      }),
    );
    while (acked.size < MIN_POSTS && Date.now() - started < MAX_LOAD_MS) await sleep(100);
    // Freeze the group and look at the disk: kill while the outbox holds Slack jobs.
    let probes = 0;
    let heldAtKill = new Set<string>();
    for (;;) {
      signalGroup(server.pid, "SIGSTOP");
      probes++;
      heldAtKill = slackOutbox(persistTo);
      if (heldAtKill.size > 0 || probes >= KILL_PROBES) break;
      signalGroup(server.pid, "SIGCONT");
      await sleep(10 + Math.random() * 40);
    }
    const killedAt = Date.now();
    signalGroup(server.pid, "SIGKILL");
    stop = true;
    failures.check(await waitGroupGone(server.pid), "the killed process group did not go away");
    await load;
    await server.stop();
    failures.check(heldAtKill.size > 0, `no Slack job was in the outbox in ${probes} probes: the kill did not fall between a message and its post`);
    const postsBeforeKill = slack.taken("chat.postMessage").length;

    server = await startDevServer({ persistTo, vars, account });
    baseUrl = server.baseUrl;
    // Every stored message's text (the outbox may hold jobs of posts the kill cut off before their
    // 201); reading wakes each conversation, which then drains what its outbox held.
    const stored = new Map<string, string>();
    for (const user of users) for (const message of await allMessages(baseUrl, user)) stored.set(message._id, message.text);
    const textsPosted = () => slack.taken("chat.postMessage").map((call) => String(call.args.text)).filter((text) => text.startsWith(PREFIX));
    const deadline = Date.now() + WAIT_MS;
    const heldArrived = () => [...heldAtKill].every((id) => textsPosted().includes(stored.get(id)!));
    let lastCount = -1;
    let lastChange = Date.now();
    while (Date.now() < deadline) {
      const count = slack.calls.length;
      if (count !== lastCount) [lastCount, lastChange] = [count, Date.now()];
      if (heldArrived() && Date.now() - lastChange > QUIET_MS) break;
      await sleep(250);
    }

    const counts = new Map<string, number>();
    for (const text of textsPosted()) counts.set(text, (counts.get(text) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    const heldMissing = [...heldAtKill].filter((id) => !counts.has(stored.get(id)!));
    const notPosted = [...acked.values()].filter((text) => !counts.has(text));
    failures.check(heldMissing.length === 0, `${heldMissing.length} messages whose Slack job the outbox held at the kill never reached Slack`);
    failures.check(twice.length === 0, `${twice.length} messages posted to Slack more than once: ${twice.slice(0, 3).map(([t]) => t).join("; ")}`);
    const parents = slack.taken("chat.postMessage").filter((call) => String(call.args.text).includes("started a conversation")).length;
    failures.check(parents <= USERS, `${parents} thread parents for ${USERS} users: a conversation opened two threads`);

    figures([
      ["users", USERS],
      ["posts sent, acknowledged", `${sent}, ${acked.size}`],
      ["Slack jobs in the outbox at the kill (probes)", `${heldAtKill.size} (${probes})`],
      ["Slack posts before the kill", postsBeforeKill],
      ["messages in Slack after the restart", counts.size],
      ["held at the kill and posted once after it", [...heldAtKill].filter((id) => counts.get(stored.get(id)!) === 1).length],
      ["acknowledged, never posted (in the local queue, which is memory only, at the kill)", notPosted.length],
      ["thread parents", parents],
      ["restart to quiet", `${((lastChange - killedAt) / 1000).toFixed(1)} s after the kill`],
    ]);
  } finally {
    if (server) await server.stop();
    await slack.close();
    rmSync(persistTo, { recursive: true, force: true });
  }
  return failures.list;
}
