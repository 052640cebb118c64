import { describe, expect, it } from "vitest";
import { call, createApp, device } from "./helpers";

describe("smoke", () => {
  it("init, post and read", async () => {
    const app = await createApp();
    const init = await call("POST", "/v1/init", app.token, { body: { device: device("d1"), userId: "bob@example.com" } });
    expect(init.status).toBe(200);
    const id = init.json.appUser._id;
    const post = await call("POST", `/v1/appUsers/${id}/conversation/messages`, app.token, { body: { text: "hi", role: "appUser" } });
    expect(post.status, JSON.stringify(post.json)).toBe(201);
    const get = await call("GET", `/v1/appusers/bob%40example.com/conversation`, app.token);
    expect(get.json.conversation.messages).toHaveLength(1);
  });
});
