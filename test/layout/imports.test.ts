import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The layers of src/, lowest first: a module may import its own layer and the layers before it, never one
// after it. cli/ and serve/ are both on top and do not import each other's internals except the service
// entry that `aerec serve` starts.
const LAYERS = ["data", "kernels", "model", "train", "eval", "store", "serve", "cli"];
const SRC = resolve(import.meta.dirname, "../../src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of `file`, as a path relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:import|export)[^"']*?from\s+["'](\.[^"']+)["']/g)].map((m) => m[1]);
  return specs.map((s) => relative(SRC, resolve(dirname(file), s)));
}

const layerOf = (path: string) => LAYERS.indexOf(path.split("/")[0]);

describe("the import graph of src/", () => {
  const edges = sources(SRC).flatMap((file) =>
    importsOf(file).map((to) => ({ from: relative(SRC, file), to })),
  );

  it("is read from the sources", () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual({ from: "train/registry.ts", to: "model/bias.js" });
  });

  it("points one way: data -> kernels -> model -> train -> eval -> store -> serve/cli", () => {
    const upward = edges.filter(({ from, to }) => {
      if (from === "index.ts") return false;
      const [a, b] = [layerOf(from), layerOf(to)];
      // serve/ and cli/ are both on top; the CLI starts the service, and nothing imports the CLI.
      if (from.startsWith("cli/") && to.startsWith("serve/")) return false;
      return b > a;
    });
    expect(upward).toEqual([]);
  });

  it("has no module outside the layers, and nothing imports cli/", () => {
    expect(edges.filter(({ from }) => from !== "index.ts" && layerOf(from) < 0)).toEqual([]);
    expect(edges.filter(({ from, to }) => to.startsWith("cli/") && !from.startsWith("cli/"))).toEqual([]);
  });
});
