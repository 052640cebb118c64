import type { RouterRoute } from "hono/types";
import { z } from "zod";
import { errorSchema } from "../presenters/error";

/** Who may call an operation; see the security schemes below. */
export type Access = "public" | "account" | "app" | "server" | "appUser";

/**
 * What one middleware knows about the operation it serves: the validators know the request's
 * schemas, the access chains its credentials, and `describe` its summary and responses. The
 * document is assembled from these, so it lists exactly the routes the app runs, validated by
 * exactly the schemas it documents.
 */
export interface OperationDoc {
  summary?: string;
  description?: string;
  tags?: string[];
  access?: Access;
  body?: z.ZodType;
  query?: z.ZodType;
  /** A multipart form: its text fields, and the names of its file fields. */
  form?: { fields: z.ZodType; files: string[] };
  /**
   * The success responses, by status: no schema means an empty JSON object; null means a body the
   * document does not describe (of `contentType`), or none at all.
   */
  responses?: Record<number, { description: string; schema?: z.ZodType | null; contentType?: string }>;
  /** Error statuses beyond those the operation's access and inputs imply. */
  errors?: number[];
  /**
   * A request body that succeeds as sent (credentials aside): the API console's default. For a
   * form, its text fields. Every operation with a body has one (test/e2e/openapi.test.ts sends them).
   */
  example?: unknown;
  /** The path (in OpenAPI form) this one is another spelling of, as both revisions of v1 named it. */
  aliasOf?: string;
}

const docs = new WeakMap<object, OperationDoc>();

/** Attaches what a middleware documents to it. */
export function documented<F extends object>(middleware: F, doc: OperationDoc): F {
  docs.set(middleware, doc);
  return middleware;
}

/**
 * A route's summary and responses, as a middleware that does nothing at run time: it hands on
 * the next one's promise rather than awaiting it, which would cost every request a tick.
 */
export const describe = (doc: OperationDoc) => documented((_c: unknown, next: () => Promise<void>) => next(), doc);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Bad request: the description names the offending field.",
  401: "No credential, or one that identifies no one (unknown token or key, bad signature, expired, unsigned).",
  403: "A valid credential whose scope does not reach this resource.",
  404: "No such resource (or none the credential may see).",
  409: "The resource changed concurrently (for example the app was deleted meanwhile), or already exists.",
  412: "A precondition (If-Match, If-Unmodified-Since) does not hold for the current representation.",
  413: "The body is too large.",
  415: "The upload is not a supported image.",
  416: "The requested range selects no byte of the object; Content-Range gives its size.",
  429: "Too many requests from this caller; retry after Retry-After seconds.",
};

const SECURITY_SCHEMES = {
  appToken: {
    type: "apiKey",
    in: "header",
    name: "app-token",
    description: "The app's token: reaches the app-user endpoints of that app, on behalf of any user who does not require a JWT.",
  },
  appUserJwt: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: 'A JWT with `{"scope": "appUser", "userId": ...}`, header `kid` = an app key\'s `_id`, signed HS256/384/512 with its secret: that user\'s data only.',
  },
  appJwt: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: 'A JWT with `{"scope": "app"}`, header `kid` = an app key\'s `_id`, signed with its secret: the whole app (the business\'s servers).',
  },
  accountJwt: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: 'A JWT with `{"scope": "account"}`, header `kid` = `ACCOUNT_KEY_ID`, signed with `ACCOUNT_SECRET`: the account API, and every app-level endpoint under `/v1/apps/{appId}/...`.',
  },
} as const;

type Scheme = keyof typeof SECURITY_SCHEMES;

const ACCOUNT_PREFIX = "/v1/apps/{appId}/";

/** The group of the app-level operations as an account reaches them, under /v1/apps/{appId}. */
const ACCOUNT_FORMS_TAG = "Account forms";

/**
 * The groups in the order a reader needs them: a device's calls, the business's, the operator's,
 * then the account forms of the first two, and last the pages about this document and the demo.
 */
const TAGS = [
  { name: "Init", description: "A device starts: it gets (or creates) its app user." },
  { name: "App users", description: "The people who talk to the business, and their devices." },
  { name: "Conversations", description: "Each app user's one conversation with the business: messages, images, read marks, buttons." },
  { name: "Conversation list", description: "The app's conversations and their messages, listed, searched and triaged (the conversation index)." },
  { name: "Webhooks", description: "Where the app's events are posted, and the record of each delivery." },
  { name: "Whispers", description: "Messages the business sends to users who did something." },
  { name: "Apps", description: "The account API: apps and their settings." },
  { name: "Keys", description: "The account API: an app's secret keys, which sign its JWTs." },
  { name: "Agents", description: "The account API: the people who answer an app's users (Parley Desk)." },
  { name: "Integrations", description: "The account API: an app's channels: push (FCM, APNs, Web Push), Slack and email." },
  { name: "Media", description: "Uploaded images." },
  { name: "Realtime", description: "Bayeux (Faye) channels: what the web messengers listen on." },
  { name: "Messenger", description: "Parley Messenger, the web chat script." },
  {
    name: ACCOUNT_FORMS_TAG,
    description:
      "Every app-level operation again under `/v1/apps/{appId}/...`, for an account JWT, which names no app itself. " +
      "Each is the same as the operation without that prefix.",
  },
  { name: "Demo", description: "The messenger demo of local development." },
  { name: "Meta", description: "This document, its reference page and the service root." },
];

/** Values the API console starts with for path parameters: those of the README's walk-through. */
const PATH_EXAMPLES: Record<string, string> = { appUserId: "bob@example.com", deviceId: "device-1" };

/** The sidebar title and group of an operation; the account and alias forms are named as such. */
function titled(doc: OperationDoc, path: string): Pick<OperationDoc, "summary" | "description" | "tags"> {
  const accountForm = path.startsWith(ACCOUNT_PREFIX) && doc.access !== "account";
  const marks = [accountForm && "account form", doc.aliasOf && "alias path"].filter(Boolean);
  const notes = [
    doc.aliasOf && `Another path for \`${doc.aliasOf}\`, the same operation.`,
    accountForm && `The account form of \`${path.replace(ACCOUNT_PREFIX, "/v1/")}\`: the same operation for an account JWT.`,
  ].filter(Boolean);
  return {
    summary: doc.summary && (marks.length ? `${doc.summary} (${marks.join(", ")})` : doc.summary),
    description: [...notes, doc.description].filter(Boolean).join(" ") || undefined,
    tags: accountForm ? [ACCOUNT_FORMS_TAG] : doc.tags,
  };
}

/** The schemes an operation accepts; an account reaches app-level routes through /v1/apps/{appId}. */
function schemesFor(access: Access, path: string): Scheme[] {
  const viaAccount: Scheme[] = path.startsWith(ACCOUNT_PREFIX) ? ["accountJwt"] : [];
  switch (access) {
    case "public":
      return [];
    case "account":
      return ["accountJwt"];
    case "server":
      return ["appJwt", ...viaAccount];
    case "app":
    case "appUser":
      return ["appToken", "appUserJwt", "appJwt", ...viaAccount];
  }
}

/** Hono's `/a/:id{[0-9]+}/b` as OpenAPI's `/a/{id}/b`, with the parameter names. */
function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:(\w+)(\{[^}]*\})?/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

/** JSON Schemas for the document, their named parts collected as shared components. */
class SchemaSet {
  readonly components: Record<string, unknown> = {};

  convert(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
    const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
    const { $schema: _dialect, $defs, ...rest } = json;
    const refs = (value: unknown) =>
      JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
    for (const [name, def] of Object.entries(($defs as Record<string, unknown>) ?? {})) this.components[name] = refs(def);
    return refs(rest);
  }

  /** The query schema's top-level fields, as query parameters. */
  parameters(schema: z.ZodType): unknown[] {
    const json = this.convert(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, property]) => ({
      name,
      in: "query",
      required: json.required?.includes(name) ?? false,
      schema: property,
    }));
  }
}

/** Whether a body schema accepts an empty body (which Parley reads as `{}`). */
const optionalBody = (schema: z.ZodType) => schema.safeParse({}).success;

function errorStatuses(doc: OperationDoc, params: string[]): number[] {
  const statuses = new Set(doc.errors ?? []);
  if (doc.access && doc.access !== "public") [401, 403, 429].forEach((s) => statuses.add(s));
  if (doc.body || doc.query || doc.form) statuses.add(400);
  if (doc.body) statuses.add(413);
  if (doc.form) [413, 415].forEach((s) => statuses.add(s));
  if (params.length > 0) statuses.add(404);
  return [...statuses].sort();
}

function operation(doc: OperationDoc, method: string, path: string, params: string[], schemas: SchemaSet) {
  const access = doc.access ?? "public";
  const { summary, description, tags } = titled(doc, path);
  const example = doc.example === undefined ? {} : { example: doc.example };
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(doc.responses ?? {})) {
    const contentType = response.contentType ?? "application/json";
    responses[status] = {
      description: response.description,
      headers: { "X-Request-Id": { $ref: "#/components/headers/RequestId" } },
      ...((response.schema !== null || response.contentType) && {
        content: {
          [contentType]:
            response.schema === null ? {} : { schema: response.schema ? schemas.convert(response.schema, "output") : { type: "object" } },
        },
      }),
    };
  }
  for (const status of errorStatuses(doc, params)) {
    responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  }
  const requestBody = doc.body
    ? { required: !optionalBody(doc.body), content: { "application/json": { schema: schemas.convert(doc.body, "input"), ...example } } }
    : doc.form
      ? { required: true, content: { "multipart/form-data": { schema: formSchema(doc.form, schemas), ...example } } }
      : undefined;
  const security = schemesFor(access, path).map((scheme) => ({ [scheme]: [] }));
  return {
    operationId: `${method}${path.replace(/[{}]/g, "").replace(/(^|\/|-)(\w)/g, (_m, _s, c: string) => c.toUpperCase())}`,
    ...(summary && { summary }),
    ...(description && { description }),
    ...(tags && { tags }),
    parameters: [
      ...params.map((name) => ({
        name,
        in: "path",
        required: true,
        schema: { type: "string" },
        ...(PATH_EXAMPLES[name] && { example: PATH_EXAMPLES[name] }),
      })),
      ...(doc.query ? schemas.parameters(doc.query) : []),
    ],
    ...(requestBody && { requestBody }),
    security,
    responses,
  };
}

function formSchema(form: NonNullable<OperationDoc["form"]>, schemas: SchemaSet) {
  const fields = schemas.convert(form.fields, "input") as { properties?: Record<string, unknown>; required?: string[] };
  const files = Object.fromEntries(form.files.map((name) => [name, { type: "string", format: "binary" }]));
  return {
    type: "object",
    properties: { ...files, ...fields.properties },
    required: [...form.files, ...(fields.required ?? [])],
  };
}

export interface DocumentInfo {
  title: string;
  version: string;
  description: string;
}

/** Operations with no documentation, as `METHOD path`: the catalogue test wants none. */
export function undocumentedRoutes(routes: RouterRoute[]): string[] {
  return [...groupRoutes(routes)].filter(([, doc]) => doc === null).map(([key]) => key);
}

/** One entry per method and path, merging what each of the route's handlers documents. */
function groupRoutes(routes: RouterRoute[]): Map<string, OperationDoc | null> {
  const groups = new Map<string, OperationDoc | null>();
  for (const route of routes) {
    if (route.method === "ALL") continue;
    const key = `${route.method} ${route.path}`;
    const doc = docs.get(route.handler);
    const merged = groups.get(key) ?? null;
    groups.set(key, doc ? { ...merged, ...doc } : merged);
  }
  return groups;
}

/**
 * The OpenAPI 3.1 document of every documented route the app registers. It names no server: the
 * route that serves it adds the request's own origin, so that copied requests are absolute.
 */
export function openApiDocument(routes: RouterRoute[], info: DocumentInfo) {
  const schemas = new SchemaSet();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, doc] of groupRoutes(routes)) {
    if (!doc) continue;
    const [method, honoPath] = key.split(" ");
    const { path, params } = openApiPath(honoPath);
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = operation(doc, method.toLowerCase(), path, params, schemas);
  }
  const usedTags = new Set(Object.values(paths).flatMap((methods) => Object.values(methods).flatMap((op) => (op as { tags?: string[] }).tags ?? [])));
  // Named, so it lands among the components, which every error response refers to.
  schemas.convert(errorSchema, "output");
  return {
    openapi: "3.1.0",
    info,
    tags: TAGS.filter((tag) => usedTags.has(tag.name)),
    paths,
    components: {
      schemas: schemas.components,
      securitySchemes: SECURITY_SCHEMES,
      headers: {
        RequestId: {
          description: "The request's id: the caller's own X-Request-Id when well formed, otherwise a new one.",
          schema: { type: "string" },
        },
      },
      responses: Object.fromEntries(
        Object.entries(ERROR_DESCRIPTIONS).map(([status, description]) => [
          `Error${status}`,
          {
            description,
            headers: { "X-Request-Id": { $ref: "#/components/headers/RequestId" } },
            content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
          },
        ]),
      ),
    },
  };
}
