import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../../src/delivery/group-commit";

/** A write that records its groups and finishes when `release` is called. */
function heldWrites(fail?: (items: number[]) => boolean) {
  const groups: number[][] = [];
  const releases: Array<() => void> = [];
  const commit = new GroupCommit<number>(
    (items) =>
      new Promise<void>((resolve, reject) => {
        groups.push(items);
        releases.push(() => (fail?.(items) ? reject(new Error("write failed")) : resolve()));
      }),
  );
  const release = async () => {
    releases.shift()!();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { commit, groups, release };
}

describe("a group commit", () => {
  it("writes the first item at once and what arrives meanwhile in one write after it", async () => {
    const { commit, groups, release } = heldWrites();
    const stored: number[] = [];
    const adds = [1, 2, 3, 4].map((n) => commit.add(n).then(() => stored.push(n)));
    expect(groups).toEqual([[1]]);
    await release();
    expect(stored).toEqual([1]);
    expect(groups).toEqual([[1], [2, 3, 4]]);
    await release();
    await Promise.all(adds);
    expect(stored).toEqual([1, 2, 3, 4]);
  });

  it("fails only the items of the write that failed", async () => {
    const { commit, groups, release } = heldWrites((items) => items.includes(2));
    const outcomes = [1, 2, 3].map((n) => commit.add(n).then(() => "stored", () => "failed"));
    await release();
    await release();
    expect(groups).toEqual([[1], [2, 3]]);
    expect(await Promise.all(outcomes)).toEqual(["stored", "failed", "failed"]);
    const later = commit.add(4);
    await release();
    await expect(later).resolves.toBeUndefined();
  });
});
