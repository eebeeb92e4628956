import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MODEL_REGISTRY } from "../src/train/registry.js";

describe("the README's model table", () => {
  it("has one row per registered kind, with the registry's summary", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const table = readme.split("<!-- model kinds")[1].split("\n\n")[0];
    const rows = [...table.matchAll(/^\| `([a-z][a-z-]*)` +\| (.+?) +\|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(MODEL_REGISTRY.map((k) => [k.name, k.summary]));
  });
});
