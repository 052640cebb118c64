// The API reference page end to end: `wrangler dev` ran the assets build, and the worker serves the
// page and Scalar's script from its bundle, as production does.
import { execFileSync } from "node:child_process";
import { request } from "node:http";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { baseUrl } from "./client.ts";

/** script src and link href of the page, in document order. */
const subresources = (html: string) =>
  [...html.matchAll(/<(script|link)\b[^>]*?\s(?:src|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)].map(
    ([, tag, ...values]) => ({ tag: tag.toLowerCase(), url: values.find((value) => value !== undefined)! }),
  );

describe("/docs on wrangler dev", () => {
  it("serves the page and every script and stylesheet it loads from this origin", async () => {
    const page = await fetch(`${baseUrl}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('data-url="/v1/openapi.json"');

    const resources = subresources(html);
    expect(resources.some(({ tag }) => tag === "script")).toBe(true);
    for (const { tag, url } of resources) {
      expect(url, `${tag} ${url}`).toMatch(/^\/(?![/\\])/);
      const response = await fetch(new URL(url, baseUrl));
      expect(response.status, url).toBe(200);
      expect(response.headers.get("content-type"), url).toMatch(/^(text|application)\/(javascript|css)\b/);
      expect((await response.arrayBuffer()).byteLength, url).toBeGreaterThan(100_000);
    }
  });

  // Node's fetch decodes what it receives: node:http shows the bytes as sent.
  it("sends Scalar's script gzipped once, as built, to a client that takes gzip", async () => {
    const { headers, body } = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      request(`${baseUrl}/docs/scalar.js`, { headers: { "accept-encoding": "gzip" } }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      })
        .on("error", reject)
        .end();
    });
    expect(headers["content-encoding"]).toBe("gzip");
    expect(body.length).toBeLessThan(2_000_000);
    expect(gunzipSync(body).toString("utf8")).toContain("api-reference");
  });

  it("redirects /docs/ to /docs", async () => {
    const response = await fetch(`${baseUrl}/docs/`, { redirect: "manual" });
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe("/docs");
  });

  // wrangler dev re-runs the build on every change under src/, its output included: a build that
  // rewrote unchanged files would trigger itself forever.
  it("the assets build leaves files that are up to date untouched", () => {
    const output = execFileSync(process.execPath, ["src/cli/build-assets.ts"], { encoding: "utf8" });
    expect(output).toContain("up to date");
  });
});
