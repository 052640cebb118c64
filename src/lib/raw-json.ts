/**
 * `value` as JSON, with further fields whose values are JSON text already (a page of messages
 * rendered by its conversation object), spliced in without parsing them again.
 */
export function jsonWithRaw(value: object, raw: Record<string, string>): string {
  const head = JSON.stringify(value);
  const tail = Object.entries(raw)
    .map(([key, text]) => `${JSON.stringify(key)}:${text}`)
    .join(",");
  if (tail === "") return head;
  return head === "{}" ? `{${tail}}` : `${head.slice(0, -1)},${tail}}`;
}
