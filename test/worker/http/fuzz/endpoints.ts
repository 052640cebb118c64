/**
 * The fuzz suite's endpoints, read from the OpenAPI document the worker serves: every documented
 * operation (the `/v1/...` form; the account's `/v1/apps/{appId}/...` form of an app-level
 * operation is fuzzed through that prefix), who may call it, its query parameters, and a valid
 * body sampled from its request schema. Nothing here is a list kept by hand but the table of
 * body fields that name the caller's own resources.
 */

export type Access = "public" | "account" | "app" | "server" | "appUser";

/** What a valid body needs of the caller's own resources. */
export interface Own {
  deviceId?: string[];
  userId?: string;
}

export interface Endpoint {
  method: string;
  template: string;
  access: Access;
  /** A valid body for a caller owning `own`; `nonce` makes names that must be new unique. */
  body?: (own: Own, nonce: string) => Record<string, unknown>;
  query?: string[];
  multipart?: true;
  /** The public image route, fuzzed with media keys and range headers. */
  media?: true;
  /** Whether a success answers JSON (the document says which). */
  jsonSuccess: boolean;
}

type Schema = Record<string, any>;
type Document = { paths: Record<string, Record<string, Schema>>; components: { schemas: Record<string, Schema> } };

const METHODS = ["get", "put", "post", "delete", "patch"];

function accessOf(operation: Schema, template: string): Access {
  const schemes = (operation.security as Record<string, unknown>[]).flatMap((requirement) => Object.keys(requirement));
  if (schemes.length === 0) return "public";
  if (!schemes.includes("appToken")) return schemes.includes("appJwt") ? "server" : "account";
  return template.includes("{appUserId}") ? "appUser" : "app";
}

/** A value the schema accepts: its first example, enum value or default, else a plain one of its type. */
function sample(schema: Schema, document: Document): unknown {
  if (schema.$ref) return sample(document.components.schemas[schema.$ref.split("/").pop()], document);
  if (schema.examples?.length) return schema.examples[0];
  if (schema.enum) return schema.enum[0];
  if ("const" in schema) return schema.const;
  if (schema.anyOf ?? schema.oneOf) return sample((schema.anyOf ?? schema.oneOf)[0], document);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object":
      return schema.properties
        ? Object.fromEntries(Object.entries(schema.properties as Record<string, Schema>).map(([k, v]) => [k, sample(v, document)]))
        : { k: "v", n: 1, on: true };
    case "array":
      return [sample(schema.items ?? {}, document)];
    case "string":
      if (schema.format === "uri") return "https://fuzz.invalid/x";
      if (schema.format === "date-time") return "2021-06-01T12:00:00.000Z";
      return "x".repeat(Math.max(1, schema.minLength ?? 1));
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return false;
    default:
      return "x";
  }
}

/**
 * Body fields that name resources: the caller's own (its device, its userId when signing in),
 * or a new one each time (a pre-created user, a new device), so that a valid body stays valid.
 */
function withIdentities(template: string, body: Record<string, unknown>, own: Own, nonce: string) {
  const named = { ...body };
  if ("userId" in named) named.userId = template === "/v1/init" ? (own.userId ?? `fuzz-user-${nonce}`) : `pre-${nonce}`;
  if ("deviceId" in named) named.deviceId = own.deviceId?.[0] ?? "none";
  if (named.device && typeof named.device === "object") named.device = { ...named.device, id: `fuzz-device-${nonce}` };
  return named;
}

export function endpointsOf(document: Document): Endpoint[] {
  const paths = Object.keys(document.paths);
  const accountForm = (path: string) =>
    path.startsWith("/v1/apps/{appId}/") && paths.includes(path.replace("/v1/apps/{appId}/", "/v1/"));
  return paths
    .filter((path) => !accountForm(path))
    .flatMap((template) =>
      Object.entries(document.paths[template])
        .filter(([method]) => METHODS.includes(method))
        .map(([method, operation]): Endpoint => {
          const json = operation.requestBody?.content?.["application/json"]?.schema;
          const successes = Object.entries(operation.responses as Record<string, Schema>).filter(([status]) => Number(status) < 400);
          const query = (operation.parameters as Schema[]).filter((p) => p.in === "query").map((p) => p.name as string);
          const endpoint: Endpoint = {
            method: method.toUpperCase(),
            template,
            access: accessOf(operation, template),
            jsonSuccess: successes.every(([, response]) => Object.keys(response.content ?? {}).includes("application/json")),
          };
          if (json) {
            const valid = sample(json, document) as Record<string, unknown>;
            endpoint.body = (own, nonce) => withIdentities(template, valid, own, nonce);
          }
          if (query.length > 0) endpoint.query = query;
          if (operation.requestBody?.content?.["multipart/form-data"]) endpoint.multipart = true;
          if (template.startsWith("/v1/media/")) endpoint.media = true;
          return endpoint;
        }),
    );
}
