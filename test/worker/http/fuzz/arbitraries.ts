import fc from "fast-check";

/**
 * Generic fast-check arbitraries for the fuzz suite: hostile strings, JSON texts (built as text so
 * that keys such as `__proto__` and duplicate keys reach the server verbatim), schema-aware
 * mutations of a valid body, path segments, query strings and multipart forms.
 */

/** Keys that poison objects built with plain assignment or that shadow Object.prototype. */
export const PROTOTYPE_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "__defineGetter__",
  "isPrototypeOf",
  "then",
];

/** Every field name the request schemas know, so that mutations and junk keys hit real fields. */
export const FIELD_NAMES = [
  "name", "settings", "device", "id", "platform", "pushNotificationToken", "appVersion", "info", "userId",
  "credentialRequired", "givenName", "surname", "email", "signedUpAt", "properties", "appUser", "deviceId",
  "token", "role", "text", "mediaUrl", "mediaType", "avatarUrl", "metadata", "event", "target", "triggers",
  "events", "limit", "offset", "before", "after", "source",
];

const ODD_STRINGS = [
  "", " ", "\t\n", "\u0000", "a\u0000b", "\ud800", "\udc00x", "😀", "\u202e", "\ufeff", "e\u0301", "Ω≈ç√",
  "null", "undefined", "NaN", "Infinity", "-0", "1e309", "0x10", "true", "{}", "[]", "' OR '1'='1",
  '"; DROP TABLE apps; --', "%00", "%", "../../etc/passwd", "<script>alert(1)</script>", "\\", "${x}",
  "javascript:alert(1)", "http://", "https://", "ftp://x.test/", "data:,x", "file:///etc/passwd",
  "http://127.0.0.1/", "https://[::1]/", "http://0x7f.1/", "http://169.254.169.254/", "https://a.invalid/x",
  "1970-01-01T00:00:00Z", "2020-02-30T25:61:61Z", "9999-12-31T23:59:59.999+14:00", "appUser", "appMaker",
  "message", "message:appUser", "ios", "web", ...PROTOTYPE_KEYS,
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

/** Lengths at and just past the schemas' limits, and past the 100 KB body limit. */
const HUGE_LENGTHS = [256, 257, 512, 513, 4096, 4097, 8192, 8193, 20_000, 60_000, 110_000];

export const hugeString = fc
  .tuple(fc.constantFrom("a", "é", "😀", "\u0000", " ", "\ud800", "%", '"'), fc.constantFrom(...HUGE_LENGTHS))
  .map(([unit, length]) => unit.repeat(length));

export const oddString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.string({ unit: "binary", maxLength: 2 }), loneSurrogate), { maxLength: 8 }).map((parts) => parts.join("")) },
  { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 1, arbitrary: hugeString },
);

/** A short odd string, for keys. */
const oddKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "a.b", "0", "-1", "\u0000", "\ud800", "x".repeat(5000)) },
);

const numberText = fc.oneof(
  fc.double().map((n) => (Number.isFinite(n) ? JSON.stringify(n) : "1e309")),
  fc.integer().map(String),
  fc.constantFrom("0", "-0", "1e308", "1e309", "-1e309", "1e-400", "123456789012345678901234567890", "0.1", "9007199254740993", "-1"),
);

const scalarText = fc.oneof(
  { weight: 4, arbitrary: oddString.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: numberText },
  { weight: 1, arbitrary: fc.constantFrom("true", "false", "null") },
);

const smallScalarText = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.constantFrom("true", "false", '"appUser"', '"web"', '"https://a.invalid/x"'),
);

/** Nesting far beyond anything a schema allows; the deepest ones also exceed the body limit. */
const deepText = fc
  .tuple(fc.integer({ min: 2, max: 30_000 }), fc.constantFrom("[", '{"a":', '{"__proto__":', '{"properties":'), fc.boolean())
  .map(([depth, open, balanced]) => {
    const close = open === "[" ? "]" : "}";
    return open.repeat(depth) + "1" + (balanced ? close.repeat(depth) : "");
  });

/** Objects with thousands of keys (the flat objects allow 4 KB), or one key thousands of times. */
const wideText = fc
  .tuple(fc.integer({ min: 100, max: 15_000 }), fc.constantFrom("distinct", "repeated", "prototype"))
  .map(([count, keys]) => {
    const key = (i: number) => (keys === "distinct" ? `k${i}` : keys === "repeated" ? "k" : PROTOTYPE_KEYS[i % PROTOTYPE_KEYS.length]);
    return `{${Array.from({ length: count }, (_, i) => `"${key(i)}":${i}`).join(",")}}`;
  });

/** Any JSON text; objects may repeat keys and use prototype keys. */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalarText, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 5 }).map((items) => `[${items.join(",")}]`),
  object: fc
    .array(fc.tuple(oddKey, tie("value")), { maxLength: 6 })
    .map((entries) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(",")}}`),
})).value;

/** A value to put in a field: mostly wrong, sometimes nested or deep. */
export const fieldValueText = fc.oneof(
  { weight: 5, arbitrary: jsonText },
  { weight: 1, arbitrary: deepText },
  { weight: 1, arbitrary: wideText },
);

// ---------------------------------------------------------------------------------------------
// Mutations of a valid body

/** Sets (or, without `text`, removes) the field at `path`; a path may name a new key. */
export interface Patch {
  path: string[];
  text?: string;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, Json> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

function fieldPaths(value: Json, at: string[] = []): string[][] {
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => [[...at, key], ...fieldPaths(child, [...at, key])]);
}

function objectPaths(value: Json, at: string[] = []): string[][] {
  if (!isObject(value)) return [];
  return [at, ...Object.entries(value).flatMap(([key, child]) => objectPaths(child, [...at, key]))];
}

/** 1 to 4 patches of a body shaped like `template`: existing fields replaced or dropped, new keys added. */
export function patchesFor(template: Json): fc.Arbitrary<Patch[]> {
  const existing = fieldPaths(template);
  const parents = objectPaths(template);
  const path = fc.oneof(
    ...(existing.length > 0 ? [fc.constantFrom(...existing)] : []),
    fc.tuple(fc.constantFrom(...parents), oddKey).map(([parent, key]) => [...parent, key]),
  );
  // Small scalars keep many mutated bodies valid, so that odd keys reach the handlers and storage.
  const text = fc.oneof({ weight: 3, arbitrary: fieldValueText }, { weight: 2, arbitrary: smallScalarText });
  const patch = fc.record({ path, text: fc.option(text, { nil: undefined, freq: 6 }) });
  return fc.array(patch, { minLength: 1, maxLength: 4 });
}

/** The JSON text of `value` with the patches applied; keys are emitted verbatim, duplicates kept. */
export function render(value: Json, patches: Patch[], at: string[] = []): string {
  if (!isObject(value)) return JSON.stringify(value);
  const here = patches.filter((p) => p.path.length === at.length + 1 && at.every((segment, i) => p.path[i] === segment));
  const entries: string[] = [];
  const keys = Object.keys(value);
  for (const key of keys) {
    const patch = here.findLast((p) => p.path[at.length] === key);
    if (!patch) entries.push(`${JSON.stringify(key)}:${render(value[key], patches, [...at, key])}`);
    else if (patch.text !== undefined) entries.push(`${JSON.stringify(key)}:${patch.text}`);
  }
  for (const patch of here) {
    const key = patch.path[at.length];
    if (!keys.includes(key) && patch.text !== undefined) entries.push(`${JSON.stringify(key)}:${patch.text}`);
  }
  return `{${entries.join(",")}}`;
}

export type BodyRecipe =
  | { kind: "patched"; patches: Patch[] }
  | { kind: "json"; text: string }
  | { kind: "text"; text: string }
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "truncated"; patches: Patch[]; keep: number }
  | { kind: "decorated"; prefix: string; suffix: string };

/** Bodies for a JSON endpoint whose valid body looks like `template`. */
export function bodyRecipe(template: Json): fc.Arbitrary<BodyRecipe> {
  const patches = patchesFor(template);
  return fc.oneof(
    { weight: 8, arbitrary: patches.map((p) => ({ kind: "patched" as const, patches: p })) },
    { weight: 3, arbitrary: fc.oneof(jsonText, deepText).map((text) => ({ kind: "json" as const, text })) },
    { weight: 1, arbitrary: oddString.map((text) => ({ kind: "text" as const, text })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => ({ kind: "bytes" as const, bytes })) },
    { weight: 1, arbitrary: fc.record({ patches, keep: fc.nat() }).map((r) => ({ kind: "truncated" as const, ...r })) },
    {
      weight: 1,
      arbitrary: fc
        .record({
          prefix: fc.constantFrom("", "\ufeff", " \n", "//c\n", "\u0000"),
          suffix: fc.constantFrom("", "x", ",", "}", "\u0000", "  ", "{}", "/* c */"),
        })
        .map((r) => ({ kind: "decorated" as const, ...r })),
    },
  );
}

export function renderBody(template: Json, recipe: BodyRecipe): string | Uint8Array {
  switch (recipe.kind) {
    case "patched":
      return render(template, recipe.patches);
    case "json":
    case "text":
      return recipe.text;
    case "bytes":
      return recipe.bytes;
    case "truncated": {
      const text = render(template, recipe.patches);
      return text.slice(0, recipe.keep % Math.max(text.length, 1));
    }
    case "decorated":
      return recipe.prefix + JSON.stringify(template) + recipe.suffix;
  }
}

/** Content types a JSON endpoint may receive; undefined sends none. */
export const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant("application/json") },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      undefined,
      "text/plain",
      "application/json; charset=utf-8",
      "Application/JSON",
      "application/vnd.api+json",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "multipart/form-data",
      "application/jsonp",
      "json",
      "*/*",
      "application/json, text/plain",
      "application/json; charset=utf-16",
      "",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

// ---------------------------------------------------------------------------------------------
// Paths and queries

/** encodeURIComponent for any string: lone surrogates become U+FFFD instead of throwing. */
export const encodeSegment = (value: string) => encodeURIComponent(value.toWellFormed());

/** Segments that normalise away or climb (the URL parser resolves them before the worker sees the path). */
export const DOT_SEGMENTS = new Set([".", "..", "%2e", "%2E", "%2e%2e", "%2E%2E", ".%2e", "%2e.", ".%2E", "%2E."]);

const RAW_SEGMENTS = [
  ...DOT_SEGMENTS, "%2F", "a%2Fb", "%5C", "%00", "a%00b", "%FF", "%C0%AF", "%E0%A4%A", "%", "%%", "%zz", "%u0041",
  "é", "😀", "a;b=c", "a,b", "~", "*", "$", "'", "(", "@", "+", "a+b", "%20", "%2520", "%0A", "%0D%0A", "null",
  "undefined", "0", "-1", "a/b", "\\", "#frag", "?x=1", "Keys", "APPUSERS", "messages", ...PROTOTYPE_KEYS,
];

/** An id segment as it appears in the URL (already encoded, or deliberately raw). */
export const pathSegment = fc.oneof(
  { weight: 3, arbitrary: oddString.filter((s) => s.length < 30_000).map(encodeSegment) },
  { weight: 3, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("a", "%41", "é", "%F0%9F%98%80", "0"), fc.integer({ min: 100, max: 20_000 }))
      .map(([unit, length]) => unit.repeat(length)),
  },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")) },
);

const queryValue = fc.oneof(
  fc.constantFrom(
    "", "0", "-1", "1", "25", "100", "101", "1e308", "1e309", "-0", "Infinity", "-Infinity", "NaN", "0x1f", "1_000",
    " 5 ", "5e-324", "9007199254740993", "1795313577.804", "abc", "[]", "1,2", "true", "%FF",
  ),
  fc.double().map(String),
  fc.integer().map(String),
  oddString.filter((s) => s.length < 5000).map(encodeSegment),
);

/** A query string (with its `?`), built around the endpoint's known parameters. */
export function queryString(keys: string[]): fc.Arbitrary<string> {
  const key = fc.oneof(
    { weight: 3, arbitrary: keys.length > 0 ? fc.constantFrom(...keys) : fc.constant("limit") },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS, "before", "after", "limit", "offset", "") },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map(encodeSegment) },
  );
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.tuple(key, queryValue), { maxLength: 4 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}` : "")) },
    { weight: 1, arbitrary: fc.constantFrom("?", "?&&&", "?before", "?=1", "?%", "?before=1&before=2", "?limit=1&limit=x", "?a[b]=1") },
  );
}

// ---------------------------------------------------------------------------------------------
// Multipart

/** The first bytes that make (or almost make) the upload an image. */
const MAGIC: Record<string, number[]> = {
  png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  jpeg: [0xff, 0xd8, 0xff],
  gif: Array.from("GIF89a", (c) => c.charCodeAt(0)),
  webp: [...Array.from("RIFF", (c) => c.charCodeAt(0)), 0, 0, 0, 0, ...Array.from("WEBP", (c) => c.charCodeAt(0))],
  "almost-png": [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a],
  svg: Array.from("<svg xmlns='http://www.w3.org/2000/svg'>", (c) => c.charCodeAt(0)),
  none: [],
};

export const fileRecipe = fc.record({
  magic: fc.constantFrom(...Object.keys(MAGIC)),
  bytes: fc.uint8Array({ maxLength: 2048 }),
  // workerd's own FormData encoder refuses a trailing backslash; the raw multipart bodies send one.
  name: fc.oneof(fc.constantFrom("a.png", "", "../../x.png", "x.exe", "😀.gif"), oddString.filter((s) => s.length < 300)).filter((s) => !s.endsWith("\\")),
  type: fc.constantFrom("image/png", "", "text/html", "application/octet-stream", "image/svg+xml", "image/jpeg; x=1"),
});

export type FileRecipe = typeof fileRecipe extends fc.Arbitrary<infer T> ? T : never;

export const fileBytes = (file: FileRecipe) => new Uint8Array([...MAGIC[file.magic], ...file.bytes]);

const formFieldValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("appUser", "appMaker", "https://a.invalid/x.png", '{"a":1}', '{"__proto__":{"x":1}}', '{"constructor":"x"}', "[1]", "{") },
  { weight: 3, arbitrary: oddString },
  { weight: 1, arbitrary: jsonText },
);

export type SourceRecipe =
  | { kind: "file"; file: FileRecipe }
  | { kind: "files"; files: FileRecipe[] }
  | { kind: "string"; value: string }
  | { kind: "absent" }
  | { kind: "empty" }
  | { kind: "oversize" };

export type MultipartRecipe =
  | { kind: "form"; source: SourceRecipe; role: string | undefined; fields: [string, string][] }
  | { kind: "raw"; contentType: string; body: string | Uint8Array };

const sourceRecipe: fc.Arbitrary<SourceRecipe> = fc.oneof(
  { weight: 8, arbitrary: fileRecipe.map((file) => ({ kind: "file" as const, file })) },
  { weight: 1, arbitrary: fc.array(fileRecipe, { minLength: 2, maxLength: 3 }).map((files) => ({ kind: "files" as const, files })) },
  { weight: 1, arbitrary: oddString.map((value) => ({ kind: "string" as const, value })) },
  { weight: 1, arbitrary: fc.constant({ kind: "absent" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "empty" as const }) },
  // Ten megabytes per case: rare, but the limit must hold for every credential.
  { weight: 1, arbitrary: fc.constant({ kind: "oversize" as const }) },
);

const rawMultipart = fc
  .record({
    boundary: fc.constantFrom("b", "----x", "", "a b", "\"q\"", "x".repeat(100)),
    contentType: fc.constantFrom("multipart/form-data; boundary=", "multipart/form-data", "multipart/mixed; boundary=", "text/plain; boundary=", "MULTIPART/FORM-DATA; BOUNDARY="),
    shape: fc.constantFrom("random", "unterminated", "wrong-boundary", "no-headers", "nested", "odd-names"),
    bytes: fc.uint8Array({ maxLength: 1024 }),
  })
  .map(({ boundary, contentType: type, shape, bytes }) => {
    const png = String.fromCharCode(...MAGIC.png);
    const part = `Content-Disposition: form-data; name="source"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n${png}`;
    const bodies: Record<string, string | Uint8Array> = {
      random: bytes,
      unterminated: `--${boundary}\r\n${part}`,
      "wrong-boundary": `--other\r\n${part}\r\n--other--\r\n`,
      "no-headers": `--${boundary}\r\n\r\n${png}\r\n--${boundary}--\r\n`,
      nested: `--${boundary}\r\nContent-Type: multipart/mixed; boundary=${boundary}\r\n\r\n--${boundary}\r\n${part}\r\n--${boundary}--\r\n--${boundary}--\r\n`,
      "odd-names": `--${boundary}\r\n${part.replace('filename="a.png"', 'filename="a\\"; name="__proto__"')}\r\n--${boundary}\r\nContent-Disposition: form-data; name="role\\"\r\n\r\nappUser\r\n--${boundary}--\r\n`,
    };
    return {
      kind: "raw" as const,
      contentType: type.endsWith("=") ? `${type}${boundary}` : type,
      body: bodies[shape],
    };
  });

export const multipartRecipe: fc.Arbitrary<MultipartRecipe> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        source: sourceRecipe,
        role: fc.option(fc.constantFrom("appUser", "appMaker", "", "AppUser", "__proto__"), { nil: undefined, freq: 6 }),
        fields: fc.array(
          fc.tuple(fc.oneof(fc.constantFrom("name", "email", "avatarUrl", "metadata", "text", "mediaUrl", "mediaType", "role", "source"), oddKey.filter((k) => !k.endsWith("\\"))), formFieldValue),
          { maxLength: 6 },
        ),
      })
      .map((r) => ({ kind: "form" as const, ...r })),
  },
  { weight: 1, arbitrary: rawMultipart },
);

const OVERSIZE_BYTES = 10 * 1024 * 1024 + 1;

const toFile = (file: FileRecipe) => new File([fileBytes(file)], file.name.toWellFormed(), { type: file.type });

/** The request body (and content type, when not left to FormData) of a multipart recipe. */
export function renderMultipart(recipe: MultipartRecipe): { body: FormData | string | Uint8Array; contentType?: string } {
  if (recipe.kind === "raw") return { body: recipe.body, contentType: recipe.contentType };
  const form = new FormData();
  if (recipe.role !== undefined) form.append("role", recipe.role);
  for (const [name, value] of recipe.fields) form.append(name.toWellFormed(), value.toWellFormed());
  const source = recipe.source;
  if (source.kind === "file") form.append("source", toFile(source.file));
  if (source.kind === "files") for (const file of source.files) form.append("source", toFile(file));
  if (source.kind === "string") form.append("source", source.value.toWellFormed());
  if (source.kind === "empty") form.append("source", new File([], "empty.png", { type: "image/png" }));
  if (source.kind === "oversize") {
    const bytes = new Uint8Array(OVERSIZE_BYTES);
    bytes.set(MAGIC.png);
    form.append("source", new File([bytes], "big.png", { type: "image/png" }));
  }
  return { body: form };
}

/** Conditional and range headers for GET /v1/media/{key}. */
export const mediaHeaders = fc.dictionary(
  fc.constantFrom("range", "if-none-match", "if-match", "if-modified-since", "if-unmodified-since", "if-range"),
  fc.oneof(
    fc.constantFrom(
      "bytes=0-0", "bytes=0-", "bytes=-1", "bytes=-0", "bytes=5-1", "bytes=999999-", "bytes=0-1,3-4", "bytes=abc", "bytes=",
      "items=0-1", "bytes=-99999999999999999999", "*", '"x"', 'W/"x"', "Thu, 01 Jan 1970 00:00:00 GMT", "not a date",
      "Fri, 31 Dec 9999 23:59:59 GMT", "",
    ),
    fc.string({ maxLength: 40 }),
  ),
  { maxKeys: 3 },
);
