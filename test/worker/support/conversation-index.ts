// What the conversation index's tests do over and over: post as the business's server, and find
// one user's entry in the list.
import { expect } from "vitest";
import { call, type TestApp } from "./helpers";

/** A message posted with the app's JWT, as `role` (201 expected). */
export async function postMessage(owner: TestApp, appUserId: string, text: string, role = "appUser") {
  const response = await call("POST", `/v1/appusers/${appUserId}/messages`, owner.server, { body: { role, text } });
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return response.json.message as { _id: string; received: number };
}

/** The page of GET /v1/conversations (200 expected). */
export async function listPage(owner: TestApp, query = "") {
  const response = await call("GET", `/v1/conversations${query}`, owner.server);
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return response.json as { conversations: any[]; hasMore: boolean };
}

/** The user's entry on the list's first page (every status unless `query` says otherwise), if it is there. */
export const listedEntry = async (owner: TestApp, appUserId: string, query = "?status=all") =>
  (await listPage(owner, query)).conversations.find((entry) => entry.appUser._id === appUserId);
