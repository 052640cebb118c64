/**
 * What every response tells the browser, unless the route said otherwise (the docs page and
 * media have policies of their own): never sniff a type, never send this URL on as a referrer,
 * and, for the JSON and scripts this API answers with, load nothing and be framed by nobody.
 */
const DEFAULTS = Object.entries({
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
});

/** The security headers a response does not set itself. */
export const missingSecurityHeaders = (headers: Headers): [string, string][] => DEFAULTS.filter(([name]) => !headers.has(name));
