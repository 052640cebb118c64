/** Columns that hold flat JSON objects (settings, properties, info). */
export const parseObject = <T = Record<string, string | number | boolean>>(text: string | null): T =>
  (text ? JSON.parse(text) : {}) as T;
