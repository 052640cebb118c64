import { z } from "zod";
import { enforceRealtimeBudget } from "../auth/rate-limit";
import { ApiError, badRequest, ErrorCode } from "../errors";
import { callerAddress } from "../lib/ip-address";
import type { Reply } from "./protocol";
import { process, type Host } from "./session";

/** A batch as clients send it: one message or an array of them, each an object with a channel. */
export const bayeuxBatch = z
  .union([z.array(z.looseObject({ channel: z.string() })).min(1).max(100), z.looseObject({ channel: z.string() })])
  .meta({ description: "Bayeux messages (faye batches them in an array)." });

/** faye's JSON-P callback names: a dotted path of identifiers. */
const JSONP_CALLBACK = /^[a-z_$][a-z0-9_$]{0,63}(\.[a-z_$][a-z0-9_$]{0,63}){0,4}$/i;
const DEFAULT_CALLBACK = "jsonpcallback";

/**
 * Answers handshakes, and refuses anything else: no client is held here. Each handshake spends
 * the caller's handshake budget and creates the session's object, the only one that will accept
 * the id.
 */
const handshakes = (env: Env, caller: string): Host => ({
  address: "",
  caller,
  holds: async () => false,
  begin: async (clientId) => {
    await enforceRealtimeBudget(env, "handshake", caller);
    await env.REALTIME.get(env.REALTIME.idFromName(clientId)).open(clientId, null);
  },
  subscriptions: () => ({}),
  setSubscription: async () => {},
  grants: () => ({ list: [], checkedAt: 0 }),
  setGrants: async () => {},
  connect: async () => [],
  end: async () => {},
});

function parseBatch(text: string | null | undefined): unknown[] {
  if (!text) throw badRequest("message: the Bayeux messages are required");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest("message: malformed JSON");
  }
  const batch = bayeuxBatch.safeParse(parsed);
  if (!batch.success) throw badRequest("message: expected a Bayeux message or an array of 1 to 100 of them");
  return Array.isArray(batch.data) ? batch.data : [batch.data];
}

/** What an HTTP request to /faye carries: JSON (long-polling), a form (cross-origin), or a query (JSON-P). */
async function readRequest(request: Request): Promise<{ messages: unknown[]; jsonp: string | null }> {
  if (request.method === "GET") {
    const query = new URL(request.url).searchParams;
    const jsonp = query.get("jsonp") ?? DEFAULT_CALLBACK;
    if (!JSONP_CALLBACK.test(jsonp)) throw badRequest("jsonp: not a valid callback name");
    return { messages: parseBatch(query.get("message")), jsonp };
  }
  const body = await request.text();
  const json = request.headers.get("content-type")?.split(";")[0].trim().toLowerCase() === "application/json";
  return { messages: parseBatch(json ? body : new URLSearchParams(body).get("message")), jsonp: null };
}

/**
 * Bayeux over HTTP: handshakes are answered here; every other message goes to the object named
 * after its client id, which holds the session (and, for a connect, the request until there are
 * events). WebSocket upgrades go each to a new object, which holds the socket.
 */
export async function handleFaye(env: Env, request: Request): Promise<Response> {
  if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
    await enforceRealtimeBudget(env, "socket", callerAddress(request));
    return env.REALTIME.get(env.REALTIME.newUniqueId()).fetch(request);
  }
  if (request.method === "GET" && !new URL(request.url).searchParams.has("message")) {
    throw new ApiError(ErrorCode.BadRequest, "message: send Bayeux messages, or upgrade to a WebSocket");
  }
  const { messages, jsonp } = await readRequest(request);
  const clientId = messages.map((m) => (m as { clientId?: unknown }).clientId).find((id) => typeof id === "string");
  const replies: Reply[] =
    typeof clientId === "string"
      ? await env.REALTIME.get(env.REALTIME.idFromName(clientId)).poll(messages, callerAddress(request))
      : await process(env, handshakes(env, callerAddress(request)), messages);
  const json = JSON.stringify(replies);
  const headers = { "cache-control": "no-cache, no-store", "x-content-type-options": "nosniff" };
  if (jsonp === null) return new Response(json, { headers: { ...headers, "content-type": "application/json; charset=utf-8" } });
  // U+2028 and U+2029 are valid in JSON but end a line in older JavaScript.
  const script = `/**/${jsonp}(${json.replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029")});`;
  return new Response(script, { headers: { ...headers, "content-type": "text/javascript; charset=utf-8" } });
}
