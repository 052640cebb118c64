// `npm run test:faults`: crash, email crash, app erasure, erasure racing posts, webhook target outage, slow target, push provider outage, a Slack crash and
// soak against a real `wrangler dev`,
// one after the other (each starts and stops its own server). `node test/faults/run.ts soak`
// runs one of them. Exits non-zero when any check fails.
import { crash } from "./crash.ts";
import { emailCrash } from "./email.ts";
import { erasure, erasureRace } from "./erasure.ts";
import { indexCrash } from "./index-crash.ts";
import { outage } from "./outage.ts";
import { pushOutage } from "./push-outage.ts";
import { slackCrash } from "./slack-crash.ts";
import { slowTarget } from "./slow-target.ts";
import { soak } from "./soak.ts";

const checks: Record<string, { title: string; run: () => Promise<string[]> }> = {
  crash: { title: "crash: SIGKILL under load, restart on the same state", run: crash },
  "email-crash": { title: "email crash: SIGKILL while messages wait for their emails, restart, each emailed exactly once", run: emailCrash },
  "index-crash": { title: "index crash: SIGKILL while the outbox holds index jobs, restart, every acknowledged message in the list and search", run: indexCrash },
  erasure: { title: "erasure: SIGKILL while an app's users are erased, restart, the erasure resumes", run: erasure },
  "erasure-race": { title: "erasure race: posts and uploads racing each user's deletion", run: erasureRace },
  outage: { title: "target outage: webhook target down 10 s, then up", run: outage },
  "push-outage": { title: "push outage: FCM answers 503 for 5 s, then up; one token refused until the dead-letter queue", run: pushOutage },
  "slack-crash": { title: "slack crash: SIGKILL between users' messages and their Slack posts, restart, each post once", run: slackCrash },
  "slow-target": { title: "slow target: every answer outlasts a queue batch's budget", run: slowTarget },
  soak: { title: "soak: two minutes of mixed traffic", run: soak },
};

// Interrupted: exit through process.exit, so that startDevServer's exit hook kills the servers.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

const selected = process.argv.slice(2);
for (const name of selected) if (!(name in checks)) throw new Error(`unknown check '${name}'; one of ${Object.keys(checks).join(", ")}`);

let failed = 0;
const started = Date.now();
const names = selected.length > 0 ? selected : Object.keys(checks);
for (const name of names) {
  const { title, run } = checks[name];
  console.log(`\n== ${title}`);
  const checkStarted = Date.now();
  let failures: string[];
  try {
    failures = await run();
  } catch (error) {
    failures = [`aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`];
  }
  const seconds = ((Date.now() - checkStarted) / 1000).toFixed(0);
  if (failures.length === 0) console.log(`PASS ${name} (${seconds} s)`);
  else {
    failed++;
    for (const failure of failures) console.log(`  FAIL: ${failure}`);
    console.log(`FAIL ${name} (${seconds} s)`);
  }
}
console.log(`\n${failed === 0 ? "all fault checks passed" : `${failed} fault check(s) failed`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
// The plain closing line CI reads.
console.log(`faults: ${names.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
