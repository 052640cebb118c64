// src/ keeps its layers and has no import cycles; the rules are in ./imports.ts.
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { checkImports } from "./imports.ts";

test("src/ imports follow the layers and have no cycles", () => {
  const violations = checkImports(fileURLToPath(new URL("../../src", import.meta.url)));
  expect(violations, `${violations.length} import violation(s):\n${violations.join("\n")}\n`).toEqual([]);
});
