import { readFileSync } from "node:fs";
import semver from "semver";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));

describe("the Node versions package.json claims", () => {
  it("are ones every installed package supports (no EBADENGINE on any of them)", () => {
    const claimed: string = pkg.engines.node;
    const narrower: string[] = [];
    for (const [path, entry] of Object.entries<{ engines?: { node?: string } }>(lock.packages)) {
      const theirs = entry.engines?.node;
      if (path && theirs && !semver.subset(claimed, theirs)) narrower.push(`${path} wants ${theirs}`);
    }
    expect(narrower, `package.json claims ${claimed}`).toEqual([]);
  });

  it("include the one running the tests", () => {
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
  });
});
