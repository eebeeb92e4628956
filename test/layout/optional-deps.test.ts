import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pkg from "../../package.json" with { type: "json" };
import { tempDir } from "../helpers.js";

// aerec installed with --omit=optional, simulated: a resolve hook (ESM) and a require patch (CommonJS) make
// every optional dependency unfindable, as it is in such an install. The built package (dist/) is run.
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);
const OPTIONAL = Object.keys(pkg.optionalDependencies);

describe("aerec without its optional dependencies", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodeArgs: string[];
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const blocked = JSON.stringify(OPTIONAL);
    const matches = "(s) => BLOCKED.some((p) => s === p || s.startsWith(`${p}/`))";
    await writeFile(
      join(dir, "hooks.mjs"),
      `const BLOCKED = ${blocked};\nconst blocked = ${matches};\n` +
        "export async function resolve(specifier, context, next) {\n" +
        "  if (blocked(specifier)) throw Object.assign(new Error(`Cannot find package '${specifier}' imported from ${context.parentURL}`), { code: 'ERR_MODULE_NOT_FOUND' });\n" +
        "  return next(specifier, context);\n}\n",
    );
    await writeFile(
      join(dir, "register.mjs"),
      `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});\n`,
    );
    await writeFile(
      join(dir, "block.cjs"),
      `const Module = require("node:module");\nconst BLOCKED = ${blocked};\nconst blocked = ${matches};\n` +
        "const original = Module._resolveFilename;\n" +
        "Module._resolveFilename = function (request, ...rest) {\n" +
        "  if (blocked(request)) throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });\n" +
        "  return original.call(this, request, ...rest);\n};\n",
    );
    nodeArgs = ["--require", join(dir, "block.cjs"), "--import", join(dir, "register.mjs")];
  });
  afterAll(() => cleanup());

  const node = async (args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [...nodeArgs, ...args], { cwd: ROOT });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  it("lists the service and chart packages as optional, not as dependencies", () => {
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["commander", "fflate", "zod"]);
    expect(OPTIONAL).toEqual(expect.arrayContaining(["fastify", "better-sqlite3", "@resvg/resvg-js", "pg"]));
  });

  it("trains, predicts, recommends and saves as a library", async () => {
    const script = `
      import { createBackend, fitModel, loadData, predict, Recommender, saveModel, loadModel } from "./dist/index.js";
      const data = await loadData("synthetic:users=80,items=30,ratings=1500,min=5");
      const backend = createBackend("auto");
      const { model } = fitModel("ease", data, { backend });
      const rec = new Recommender(model, data.userIds, data.itemIds, data.movies, { minRatings: 0 });
      const file = ${JSON.stringify(join(dir, "m.safetensors"))};
      await saveModel(file, model, { settings: {}, dataset: data.dataset, split: data.split, userIds: data.userIds,
        itemIds: data.itemIds, movies: data.movies, history: [], metrics: {} }).catch(() => {});
      console.log(JSON.stringify({ n: rec.forUser(1, 5).items.length, p: predict(model, data.test).length }));`;
    const res = await node(["--input-type=module", "-e", script]);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ n: 5, p: expect.any(Number) });
  });

  it("says which packages aerec serve and PNG charts need, and how to install them", async () => {
    const serve = await node(["dist/cli/main.js", "serve", "--model-file", "none.safetensors"]);
    expect(serve.code).not.toBe(0);
    expect(serve.stderr).toMatch(
      /aerec serve needs fastify, .*optional dependencies of aerec that are not installed here: npm install fastify /,
    );
    const png = await node([
      ...["dist/cli/main.js", "train", "--dataset", "synthetic:users=60,items=20,ratings=900,min=5"],
      ...["--model", "autorec-i", "--hidden", "8", "--epochs", "2", "--plot", join(dir, "curve.png")],
    ]);
    expect(png.code).not.toBe(0);
    expect(png.stderr).toMatch(/a PNG chart needs @resvg\/resvg-js, .*npm install @resvg\/resvg-js/);
  });
});
