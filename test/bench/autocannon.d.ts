// The part of autocannon 9 the benchmark uses (its own package has no types; @types/autocannon
// predates the warm-up option).
declare module "autocannon" {
  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string;
      setupRequest?: (request: Request) => Request;
    }
    interface Options {
      url: string;
      connections: number;
      duration: number;
      timeout: number;
      requests: Request[];
      warmup?: { connections: number; duration: number };
    }
    type StatusCodeStats = Record<string, { count: number | string }>;
    interface Result {
      duration: number;
      latency: { p50: number; p99: number };
      non2xx: number;
      errors: number;
      timeouts: number;
      statusCodeStats?: StatusCodeStats;
      warmup?: { statusCodeStats?: StatusCodeStats };
    }
  }
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}
