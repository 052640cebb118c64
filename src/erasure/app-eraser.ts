import { DurableObject } from "cloudflare:workers";
import { countUsersOfApp, someUserRowsOfApp } from "../db/app-users";
import { appDeletionState, deleteErasedApp } from "../db/apps";
import { eraseRows } from "./user";

/** Users erased per alarm, and at once within it: each alarm stays far within its time limit. */
const USERS_PER_STEP = 50;
const USERS_AT_ONCE = 10;
const MAX_BACKOFF_MS = 60_000;
/** When an armed eraser wakes unless started sooner: far beyond the deleting request's lifetime. */
const WATCHDOG_MS = 60_000;

interface Step {
  erased: number;
  done: boolean;
  /** The app was never marked deleted: the request that armed the eraser failed before that. */
  abandoned?: boolean;
}

/** One step of an app's erasure: a batch of its users, or, once none is left, the app's row. */
export async function eraseAppStep(env: Env, appId: string): Promise<Step> {
  const state = await appDeletionState(env.DB, appId);
  if (state !== "deleting") return { erased: 0, done: true, abandoned: state === "live" };
  const rows = await someUserRowsOfApp(env.DB, appId, USERS_PER_STEP);
  if (rows.length === 0) return { erased: 0, done: await deleteErasedApp(env.DB, appId) };
  for (let i = 0; i < rows.length; i += USERS_AT_ONCE) {
    await eraseRows(env, { appId, rows: rows.slice(i, i + USERS_AT_ONCE), wholeApp: true });
  }
  return { erased: rows.length, done: false };
}

/**
 * Erases a deleted app's users in the background, one object per app: its alarm erases a batch
 * and sets itself again until none is left. Every step is idempotent and the work left is read
 * from D1, so a crash anywhere resumes where it stopped (the alarm survives it). Progress goes
 * to the log.
 */
export class AppEraser extends DurableObject<Env> {
  /** Before the app is marked deleted: the eraser wakes within a minute whatever happens next. */
  async arm(appId: string): Promise<void> {
    if ((await this.ctx.storage.get<string>("appId")) === undefined) await this.ctx.storage.put({ appId, erased: 0, failures: 0 });
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
  }

  /** Once the app is marked deleted: the erasure starts now. */
  async start(): Promise<void> {
    const appId = await this.ctx.storage.get<string>("appId");
    if (appId === undefined) return;
    console.log(`app ${appId}: deletion started, ${await countUsersOfApp(this.env.DB, appId)} users to erase`);
    await this.ctx.storage.setAlarm(Date.now());
  }

  async alarm(): Promise<void> {
    const state = await this.ctx.storage.get<string | number>(["appId", "erased", "failures"]);
    const appId = state.get("appId") as string | undefined;
    if (appId === undefined) return;
    let step: Step;
    try {
      step = await eraseAppStep(this.env, appId);
    } catch (error) {
      // Retried by this object itself, with a backoff: the runtime gives up on a failing alarm.
      const failures = ((state.get("failures") as number | undefined) ?? 0) + 1;
      console.error(`app ${appId}: erasure step failed (${failures} in a row), retrying`, error);
      await this.ctx.storage.put("failures", failures);
      await this.ctx.storage.setAlarm(Date.now() + Math.min(1000 * 2 ** failures, MAX_BACKOFF_MS));
      return;
    }
    if (step.done) {
      if (step.abandoned) console.log(`app ${appId}: its deletion never took effect; nothing erased`);
      else console.log(`app ${appId}: deletion complete, ${state.get("erased") ?? 0} users erased`);
      await this.ctx.storage.delete(["appId", "erased", "failures"]);
      return;
    }
    const erased = ((state.get("erased") as number | undefined) ?? 0) + step.erased;
    await this.ctx.storage.put({ erased, failures: 0 });
    console.log(`app ${appId}: ${erased} users erased, ${await countUsersOfApp(this.env.DB, appId)} left`);
    await this.ctx.storage.setAlarm(Date.now());
  }
}

/** The eraser of this app. */
export const appEraser = (env: Env, appId: string) => env.APP_ERASER.get(env.APP_ERASER.idFromName(appId));
