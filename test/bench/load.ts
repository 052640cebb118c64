// One scenario's load: autocannon against the dev server, a warm-up first, figures out.
import autocannon from "autocannon";

export interface LoadOptions {
  baseUrl: string;
  method?: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Called before every request: returns the path and body to send this time. */
  vary?: () => { path?: string; body?: string };
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export interface Figures {
  requests: number;
  durationSeconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** non-2xx answers plus connection errors (timeouts included). */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** What the warm-up got back (not part of the figures above). */
  warmupStatusCodes: Record<string, number>;
}

const countsByStatus = (stats: Record<string, { count: number | string }> | undefined) =>
  Object.fromEntries(Object.entries(stats ?? {}).map(([code, { count }]) => [code, Number(count)]));

export async function runLoad(options: LoadOptions): Promise<Figures> {
  const { vary } = options;
  const request = {
    method: options.method ?? "GET",
    path: options.path,
    headers: {
      ...options.headers,
      ...(options.body !== undefined || vary ? { "content-type": "application/json" } : {}),
    },
    body: options.body,
    ...(vary && {
      setupRequest: (req: autocannon.Request) => Object.assign(req, vary()),
    }),
  };
  const result = await autocannon({
    url: options.baseUrl,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 10,
    requests: [request],
    warmup: { connections: options.connections, duration: options.warmupSeconds },
  });
  const statusCodes = countsByStatus(result.statusCodeStats);
  const completed = Object.values(statusCodes).reduce((sum, n) => sum + n, 0);
  return {
    requests: completed,
    durationSeconds: result.duration,
    rps: completed / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors,
    timeouts: result.timeouts,
    statusCodes,
    warmupStatusCodes: countsByStatus(result.warmup?.statusCodeStats),
  };
}
