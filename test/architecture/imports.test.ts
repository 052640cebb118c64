// src/ keeps its layers and has no import cycles, through imports or env bindings; the rules are in ./imports.ts.
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { BINDINGS, MODULE_CYCLE, checkImports } from "./imports.ts";

const src = fileURLToPath(new URL("../../src", import.meta.url));

test("src/ imports follow the layers and have no cycles", () => {
  const violations = checkImports(src);
  expect(violations, `${violations.length} import violation(s):\n${violations.join("\n")}\n`).toEqual([]);
});

test("the check sees the tree's calls through bindings: undeclared, the conversation's call back to its subscribers is a loop", () => {
  const undeclared = BINDINGS.map(({ binding, serves }) => ({ binding, serves }));
  expect(checkImports(src, undeclared)).toEqual([
    expect.stringMatching(
      new RegExp(`^src/conversation/ -> src/realtime/ -> src/conversation/: ${MODULE_CYCLE} \\(src/conversation/subscription\\.ts -> src/realtime/client\\.ts \\(env\\.REALTIME\\), `),
    ),
  ]);
});
