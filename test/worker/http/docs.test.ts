import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, call, expectError } from "../support/helpers";

interface Page {
  /** script src and link href, in document order */
  subresources: Array<{ tag: string; url: string; rel?: string }>;
  /** type of every script without src (each must be a data block, never run) */
  inlineScriptTypes: Array<string | null>;
  /** data-url and data-configuration of Scalar's #api-reference element */
  reference?: { url: string | null; configuration: string | null };
}

// HTMLRewriter hands attribute values over as written, entities and all.
const decodeEntities = (value: string) =>
  value.replace(/&(quot|lt|gt|#39|amp);/g, (_, name: string) => ({ quot: '"', lt: "<", gt: ">", "#39": "'", amp: "&" })[name]!);

/** Reads the page with workerd's own HTML parser. */
async function parse(html: string): Promise<Page> {
  const page: Page = { subresources: [], inlineScriptTypes: [] };
  await new HTMLRewriter()
    .on("script", {
      element(element) {
        const src = element.getAttribute("src");
        if (src !== null) page.subresources.push({ tag: "script", url: src });
        else page.inlineScriptTypes.push(element.getAttribute("type"));
      },
    })
    .on("link[href]", {
      element(element) {
        page.subresources.push({ tag: "link", url: element.getAttribute("href")!, rel: element.getAttribute("rel") ?? "" });
      },
    })
    .on("#api-reference", {
      element(element) {
        page.reference = { url: element.getAttribute("data-url"), configuration: element.getAttribute("data-configuration") };
      },
    })
    .transform(new Response(html))
    .text();
  return page;
}

async function docsPage() {
  const response = await call("GET", "/docs");
  expect(response.status).toBe(200);
  return { response, page: await parse(response.json as string) };
}

describe("GET /docs", () => {
  it("answers an HTML page with a same-origin content security policy", async () => {
    const { response } = await docsPage();
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/(^|;\s*)script-src 'self'(;|$)/);
    for (const directive of ["style-src", "font-src", "connect-src", "img-src"]) {
      expect(csp).toMatch(new RegExp(`(^|;\\s*)${directive} 'self'`));
    }
    // No other host is allowed anywhere in the policy.
    expect(csp).not.toMatch(/https?:|\/\/|\*/);
  });

  it("loads its scripts and stylesheets from this origin only, and the worker serves each of them", async () => {
    const { page } = await docsPage();
    expect(page.subresources.filter((r) => r.tag === "script").length).toBeGreaterThan(0);
    for (const { tag, url, rel } of page.subresources) {
      expect(url, `${tag} ${url}`).not.toMatch(/^([a-z][a-z0-9+.-]*:|\/\/|\\)/i);
      expect(url, `${tag} ${url}`).toMatch(/^\//);
      expect(new URL(url, BASE).origin).toBe(BASE);

      const asset = await call("GET", url);
      expect(asset.status, `${url} (missing? npm run build:assets copies it)`).toBe(200);
      const type = asset.headers.get("content-type") ?? "";
      if (tag === "script") expect(type, url).toMatch(/^(text|application)\/javascript\b/);
      else if (rel === "stylesheet") expect(type, url).toMatch(/^text\/css\b/);
      else expect(type, url).toMatch(/^(text|application)\/(javascript|css)\b/);
      expect(String(asset.json).length, url).toBeGreaterThan(100_000);
    }
  });

  it("has no inline script to run (the policy would block it)", async () => {
    const { page } = await docsPage();
    for (const type of page.inlineScriptTypes) expect(type).toBe("application/json");
  });

  it("points Scalar at /v1/openapi.json with everything that calls out to the network turned off", async () => {
    const { page } = await docsPage();
    expect(page.reference?.url).toBe("/v1/openapi.json");
    const configuration = JSON.parse(decodeEntities(page.reference?.configuration ?? "{}"));
    expect(configuration).toMatchObject({
      url: "/v1/openapi.json",
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      mcp: { disabled: true },
      showDeveloperTools: "never",
      hideClientButton: true,
    });
    expect(configuration).not.toHaveProperty("proxyUrl");
    expect(configuration).not.toHaveProperty("pluginUrls");
  });

  it("redirects /docs/ to /docs", async () => {
    // Not followed, as call() would.
    const response = await exports.default.fetch(new Request(`${BASE}/docs/`, { redirect: "manual" }));
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe("/docs");
  });

  it("answers the contract's 404 for an asset that does not exist", async () => {
    expectError(await call("GET", "/docs/no-such-file.js"), 404);
  });
});
