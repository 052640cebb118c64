// The conversation index end to end against `wrangler dev`: migration 0013's FTS5 tables on local
// D1, the index queue's consumer, the list, search and triage.
import { describe, expect, it } from "vitest";
import { api, createApp, until } from "./client.ts";

describe("the conversation index under wrangler dev", () => {
  it("lists, searches and closes what the app's users wrote, within the queue's window", async () => {
    const app = await createApp("desk index e2e");
    const { appUser } = await api("POST", "/v1/appusers", app.appJwt, { userId: "dana@example.com", givenName: "Dana" });
    const { message } = await api("POST", `/v1/appusers/${appUser._id}/messages`, app.appJwt, { role: "appUser", text: "Where is my parcel?" });
    const listed = await until("the message in the list", async () => {
      const page = await api("GET", "/v1/conversations", app.appJwt);
      return page.conversations.length === 1 && page;
    });
    expect(listed.conversations[0]).toMatchObject({ appUser: { _id: appUser._id, givenName: "Dana" }, lastMessage: { _id: message._id }, businessUnreadCount: 1 });
    const found = await api("GET", "/v1/conversations/search?q=where%20parc", app.appJwt);
    expect(found.results.map((hit: { message: { _id: string } }) => hit.message._id)).toEqual([message._id]);
    const byUser = await api("GET", "/v1/conversations?q=dan", app.appJwt);
    expect(byUser.conversations).toHaveLength(1);
    const { conversation } = await api("PUT", `/v1/appusers/${appUser._id}/conversation`, app.appJwt, { status: "closed" });
    expect(conversation.status).toBe("closed");
    expect((await api("GET", "/v1/conversations", app.appJwt)).conversations).toEqual([]);
  });
});
