// How the shared helpers reach the API: a `Send` the suite provides. The worker suites call the
// worker's fetch handler inside workerd; the Node suites use `httpSend`, fetch over HTTP to a
// running `wrangler dev`. Runtime-neutral: web-standard APIs only.

/** An answer: the HTTP status and the body parsed as JSON (the text when it is not JSON). */
export interface Reply {
  status: number;
  json: any;
}

/** One request: a JSON body is serialised (with its content-type), a FormData one sent as it is. */
export type Send = (method: string, path: string, headers: Record<string, string>, body?: unknown) => Promise<Reply>;

/** The body as JSON; the text when it is not JSON, null when empty. */
export function parseBody(text: string): any {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

export interface HttpSendOptions {
  /** Abort a request that has not answered by then; 30 s unless given. */
  timeoutMs?: number;
}

/** A Send over fetch to `baseUrl`; a path that is a whole URL (a `next` link) is used as it is. */
export function httpSend(baseUrl: string, { timeoutMs = 30_000 }: HttpSendOptions = {}): Send {
  return async (method, path, headers, body) => {
    const form = body instanceof FormData;
    const response = await fetch(/^https?:/.test(path) ? path : `${baseUrl}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined && !form && { "content-type": "application/json" }) },
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, json: parseBody(await response.text()) };
  };
}

/** Sends and requires one of `status`: the answer's JSON, or an error that names the call. */
export async function expectStatus(
  send: Send,
  method: string,
  path: string,
  headers: Record<string, string>,
  status: number | number[],
  body?: unknown,
): Promise<any> {
  const reply = await send(method, path, headers, body);
  if (![status].flat().includes(reply.status)) {
    throw new Error(`${method} ${path}: expected ${status}, got ${reply.status} ${String(JSON.stringify(reply.json)).slice(0, 500)}`);
  }
  return reply.json;
}
