import { describe, expect, it } from "vitest";
import { app } from "../../../src/app";
import { undocumentedRoutes } from "../../../src/http/openapi";
import { call } from "../support/helpers";

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

/** Every operation the app routes, as `METHOD /openapi/{path}`. */
const routed = () =>
  new Set(
    app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => `${route.method} ${route.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`),
  );

async function documented(): Promise<Set<string>> {
  const { json } = await call("GET", "/v1/openapi.json");
  return new Set(
    Object.entries(json.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => METHODS.includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    ),
  );
}

describe("the OpenAPI document", () => {
  it("is served as OpenAPI 3.1 without credentials", async () => {
    const response = await call("GET", "/v1/openapi.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.json.openapi).toBe("3.1.0");
    expect(response.json.info.title).toBe("Parley");
  });

  it("documents every route the app registers, and nothing it does not route", async () => {
    expect(undocumentedRoutes(app.routes)).toEqual([]);
    expect([...(await documented())].sort()).toEqual([...routed()].sort());
  });

  it("lists the seed contract's paths in both the app form and the account form", async () => {
    const operations = await documented();
    for (const operation of [
      "POST /v1/init",
      "GET /v1/appusers/{appUserId}",
      "PUT /v1/appusers/{appUserId}",
      "POST /v1/appusers",
      "POST /v1/appusers/{appUserId}/events",
      "GET /v1/appusers/{appUserId}/conversation",
      "POST /v1/appusers/{appUserId}/conversation/messages",
      "POST /v1/appusers/{appUserId}/conversation/images",
      "POST /v1/webhooks",
      "GET /v1/webhooks",
      "GET /v1/webhooks/{webhookId}",
      "PUT /v1/webhooks/{webhookId}",
      "DELETE /v1/webhooks/{webhookId}",
    ]) {
      expect(operations, operation).toContain(operation);
      const [method, path] = operation.split(" ");
      expect(operations, `account form of ${operation}`).toContain(`${method} ${path.replace("/v1/", "/v1/apps/{appId}/")}`);
    }
    expect(operations).toContain("POST /v1/apps");
    expect(operations).toContain("GET /v1/apps/{appId}/keys/{keyId}/jwt");
  });

  it("names the credentials each operation accepts", async () => {
    const { json } = await call("GET", "/v1/openapi.json");
    const schemes = (path: string, method: string) =>
      (json.paths[path][method].security as Record<string, unknown>[]).flatMap((requirement) => Object.keys(requirement));
    expect(Object.keys(json.components.securitySchemes).sort()).toEqual(["accountJwt", "appJwt", "appToken", "appUserJwt"]);
    expect(json.components.securitySchemes.appToken).toMatchObject({ type: "apiKey", in: "header", name: "app-token" });
    expect(schemes("/v1/appusers/{appUserId}", "get")).toEqual(["appToken", "appUserJwt", "appJwt"]);
    expect(schemes("/v1/apps/{appId}/appusers/{appUserId}", "get")).toEqual(["appToken", "appUserJwt", "appJwt", "accountJwt"]);
    expect(schemes("/v1/webhooks", "post")).toEqual(["appJwt"]);
    expect(schemes("/v1/apps", "post")).toEqual(["accountJwt"]);
    expect(schemes("/v1/media/{key}", "get")).toEqual([]);
  });

  it("describes request bodies, success responses and the error shape from the validating schemas", async () => {
    const { json } = await call("GET", "/v1/openapi.json");
    const init = json.paths["/v1/init"].post;
    const body = init.requestBody.content["application/json"].schema;
    expect(init.requestBody.required).toBe(true);
    expect(body.required).toContain("device");
    expect(body.properties.device.properties.platform.enum).toEqual(["ios", "android", "web", "other"]);
    expect(init.responses["200"].content["application/json"].schema.properties.appUser).toEqual({ $ref: "#/components/schemas/AppUser" });
    expect(init.responses["400"]).toEqual({ $ref: "#/components/responses/Error400" });
    expect(json.components.responses.Error400.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
    expect(json.components.schemas.Error.properties.error.properties.code.enum).toContain("bad_request");

    const post = json.paths["/v1/appusers/{appUserId}/conversation/messages"].post;
    expect(post.requestBody.content["application/json"].schema.properties.role.enum).toEqual(["appUser", "appMaker"]);
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "403", "404", "413", "429"]));

    const upload = json.paths["/v1/appusers/{appUserId}/conversation/images"].post;
    const form = upload.requestBody.content["multipart/form-data"].schema;
    expect(form.properties.source).toEqual({ type: "string", format: "binary" });
    expect(form.required).toEqual(expect.arrayContaining(["source", "role"]));

    const page = json.paths["/v1/appusers/{appUserId}/messages"].get;
    expect(page.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
      "path:appUserId",
      "query:before",
      "query:after",
    ]);
  });

  it("names this server by the request's origin, so that copied requests are absolute", async () => {
    const { json } = await call("GET", "/v1/openapi.json");
    expect(json.servers).toEqual([{ url: "https://parley.test" }]);
  });

  it("gives every operation a title of its own, marking the account and alias forms", async () => {
    const { json } = await call("GET", "/v1/openapi.json");
    const operations = Object.entries(json.paths as Record<string, Record<string, { summary: string; tags: string[] }>>).flatMap(
      ([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, ...op })),
    );
    const summaries = operations.map((op) => op.summary);
    expect(summaries.filter((summary, at) => summaries.indexOf(summary) !== at)).toEqual([]);
    const summaryOf = (method: string, path: string) => operations.find((op) => op.method === method && op.path === path)!.summary;
    expect(summaryOf("post", "/v1/appusers/{appUserId}/conversation/messages")).toBe("Post a message");
    expect(summaryOf("post", "/v1/appusers/{appUserId}/messages")).toBe("Post a message (alias path)");
    expect(summaryOf("post", "/v1/apps/{appId}/appusers/{appUserId}/conversation/messages")).toBe("Post a message (account form)");
    expect(summaryOf("post", "/v1/apps/{appId}/appusers/{appUserId}/messages")).toBe("Post a message (account form, alias path)");
    expect(summaryOf("post", "/v1/apps/{appId}/keys")).toBe("Create a secret key");
    const tagsOf = (method: string, path: string) => operations.find((op) => op.method === method && op.path === path)!.tags;
    expect(tagsOf("post", "/v1/apps/{appId}/init")).toEqual(["Account forms"]);
    expect(tagsOf("post", "/v1/apps/{appId}/keys")).toEqual(["Keys"]);
  });

  it("lists the API's groups first and the document's own pages last, every used group named", async () => {
    const { json } = await call("GET", "/v1/openapi.json");
    const names = (json.tags as { name: string }[]).map((tag) => tag.name);
    expect(names.slice(0, 3)).toEqual(["Init", "App users", "Conversations"]);
    expect(names.at(-1)).toBe("Meta");
    const used = new Set(Object.values(json.paths as Record<string, Record<string, { tags: string[] }>>).flatMap((item) => Object.values(item).flatMap((op) => op.tags)));
    expect([...used].sort()).toEqual([...names].sort());
  });

  it("gives every request body an example (test/e2e/openapi.test.ts sends each)", async () => {
    const { json } = await call("GET", "/v1/openapi.json");
    for (const [path, item] of Object.entries(json.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { example?: unknown }> } }>>)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op.requestBody) continue;
        for (const [type, media] of Object.entries(op.requestBody.content)) expect(media.example, `${method} ${path} ${type}`).toBeDefined();
      }
    }
  });
});
