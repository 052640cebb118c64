// The OpenAPI document as the running worker serves it, checked by an independent validator.
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, inject, it } from "vitest";
import { httpSend } from "../support/http.ts";
import { accountJwt, bearer } from "../support/jwt.ts";
import { api, baseUrl, createApp } from "./client.ts";

describe("GET /v1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const response = await fetch(`${baseUrl}/v1/openapi.json`);
    expect(response.status).toBe(200);
    const document = await response.json();
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });
});

interface Operation {
  parameters: { name: string; in: string; example?: string }[];
  security: Record<string, unknown>[];
  requestBody?: { content: Record<string, { example: unknown }> };
}

/** A 1×1 PNG: the file the reader picks for an image upload. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

/** Examples that cannot succeed as they are: they name something only the reader has. */
const NAMES_WHAT_THE_READER_HAS = new Set(["POST /v1/appusers/{appUserId}/conversation/postback", "POST /v1/apps/{appId}/appusers/{appUserId}/conversation/postback", "POST /demo/reply", "POST /v1/integrations/{integrationId}/slack/events"]);

describe("the documented request examples", () => {
  it("succeed as the API console sends them, with credentials and the reader's own ids filled in", async () => {
    const document = await (await fetch(`${baseUrl}/v1/openapi.json`)).json();
    const send = httpSend(baseUrl);
    const app = await createApp("openapi examples");
    const account = bearer(await accountJwt({ keyId: inject("accountKeyId"), secret: inject("accountSecret") }));
    // The walk-through's user and device, which the examples of the user's operations name.
    const init = document.paths["/v1/init"].post.requestBody.content["application/json"].example;
    await api("POST", "/v1/init", app.appJwt, init);
    const { webhook } = await api("POST", "/v1/webhooks", app.appJwt, { target: "http://127.0.0.1:9/unused", triggers: ["postback"] });
    const ids: Record<string, string> = { appId: app.appId, keyId: app.keyId, webhookId: webhook._id };
    const credentials: Record<string, Record<string, string>> = { appJwt: app.server, accountJwt: account, appToken: app.token };

    const answers: string[] = [];
    // Each example is sent by both forms of its operation: the second pre-create finds the user made.
    const sent = new Set<string>();
    for (const [template, item] of Object.entries(document.paths as Record<string, Record<string, Operation>>)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op.requestBody) continue;
        const path = op.parameters
          .filter((p) => p.in === "path")
          .reduce((path, p) => path.replace(`{${p.name}}`, p.example ?? ids[p.name]), template);
        const schemes = op.security.flatMap((requirement) => Object.keys(requirement));
        const scheme = ["appJwt", "accountJwt", "appToken"].find((name) => schemes.includes(name));
        const [[type, { example }]] = Object.entries(op.requestBody.content);
        let body: unknown = example;
        if (type === "multipart/form-data") {
          const form = new FormData();
          for (const [name, value] of Object.entries(example as Record<string, string>)) form.append(name, value);
          form.append("source", new Blob([PNG], { type: "image/png" }), "pixel.png");
          body = form;
        }
        const reply = await send(method.toUpperCase(), path, scheme ? credentials[scheme] : {}, body);
        const operation = `${method.toUpperCase()} ${template}`;
        const again = sent.has(JSON.stringify(example)) && reply.status === 409;
        sent.add(JSON.stringify(example));
        const expected = NAMES_WHAT_THE_READER_HAS.has(operation) ? reply.status === 404 : again || (reply.status >= 200 && reply.status < 300);
        if (!expected) answers.push(`${operation} -> ${reply.status} ${JSON.stringify(reply.json).slice(0, 200)}`);
        // A webhook the example made would post to example.com whenever a message is stored.
        if (reply.json?.webhook?._id && reply.json.webhook._id !== webhook._id) await api("DELETE", `/v1/webhooks/${reply.json.webhook._id}`, app.appJwt);
      }
    }
    expect(answers).toEqual([]);
  });
});
