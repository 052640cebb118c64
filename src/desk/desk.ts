import { agentOf, agentshipsOf, createAgent, normalEmail } from "../agents/agents";
import { requireApp } from "../apps/apps";
import type { Credential } from "../auth/credential";
import type { AppUser } from "../db/app-users";
import { findApp, listApps, type App } from "../db/apps";
import { devicesOfUser } from "../db/devices";
import { ApiError, ErrorCode, forbidden } from "../errors";
import { presentDeviceProfile } from "../presenters/app-user";
import type { DeskIdentity } from "./access";

/** The most apps the local agent's picker lists (every app of a development database). */
const LOCAL_APPS_LISTED = 100;
/** The most devices the profile panel shows, the most recently known first. */
const PROFILE_DEVICES = 20;

/** The person answering in an app: what their messages carry as `name` and `email`. */
export interface DeskAgent {
  email: string;
  name: string;
}

/** The apps the identity answers for: those where it is an agent (the local agent: every app). */
export async function deskApps(env: Env, identity: DeskIdentity): Promise<App[]> {
  if (identity.kind === "local") return listApps(env.DB, LOCAL_APPS_LISTED, 0);
  const agentships = await agentshipsOf(env, identity.email);
  const apps = await Promise.all(agentships.map((agent) => findApp(env.DB, agent.appId)));
  return apps.filter((app): app is App => app !== null);
}

/** The identity as an agent of the app; 403 when it is none (whether or not the app exists). */
export async function deskAgent(env: Env, identity: DeskIdentity, appId: string): Promise<DeskAgent> {
  if (identity.kind === "local") {
    await requireApp(env, appId);
    return { email: identity.email, name: identity.name };
  }
  const agent = await agentOf(env, appId, identity.email);
  if (!agent) throw forbidden(`appId: ${identity.email} is no agent of app '${appId}'`);
  return { email: agent.email, name: agent.name };
}

/** The devices the user has used, as the Desk's profile panel shows them. */
export async function profileDevices(env: Env, user: AppUser) {
  return (await devicesOfUser(env.DB, user.appId, user.id, PROFILE_DEVICES)).map(presentDeviceProfile);
}

/** What an agent's messages carry: the business's role, signed with who wrote (the avatar comes from the email). */
export const agentAuthor = (agent: DeskAgent) => ({ role: "appMaker" as const, name: agent.name, email: agent.email });

/**
 * What an agent acts with in the conversation code: the business's own scope in that app (an
 * agent answers as the app maker), named for the Desk so that no key of the app is involved.
 */
export const deskCredential = (appId: string): Credential => ({ kind: "jwt", scope: "app", appId, keyId: "desk" });

/**
 * The local agent answers in every app without being one of its agents, but an assignee must be
 * one: assigning itself makes it an agent of the app (once), so that "assign to me" works under
 * `npm run dev` as it does behind Access.
 */
export async function enrolLocalAssignee(env: Env, identity: DeskIdentity, appId: string, assignee: string | null | undefined): Promise<void> {
  if (identity.kind !== "local" || !assignee || normalEmail(assignee) !== identity.email) return;
  if (await agentOf(env, appId, identity.email)) return;
  await createAgent(env, appId, { email: identity.email, name: identity.name }).catch((error: unknown) => {
    // Enrolled meanwhile by another request: as wanted.
    if (!(error instanceof ApiError && error.code === ErrorCode.Conflict)) throw error;
  });
}
