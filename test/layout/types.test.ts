import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.js";

// A TypeScript project that uses the library, with no @types/node and no DOM library: aerec's own
// declarations (dist/*.d.ts) must type-check there (a dependency's, such as zod's, are its own affair).
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = join(ROOT, "node_modules", ".bin", "tsc");

describe("the published types", () => {
  it("need neither @types/node nor the DOM library", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: "ES2022",
            moduleResolution: "Bundler",
            strict: true,
            noEmit: true,
            types: [],
            lib: ["ES2023"],
            skipLibCheck: false,
          },
          files: ["use.ts"],
        }),
      );
      await writeFile(
        join(dir, "use.ts"),
        `import { createBackend, downloadDataset, fitModel, loadRatingsFile, predict, svgToPng } from ${JSON.stringify(join(ROOT, "dist", "index.js"))};\n` +
          "export async function main(): Promise<number> {\n" +
          '  const data = await loadRatingsFile("ratings.csv", { split: "time:0.9" });\n' +
          '  const { model } = fitModel("ease", data, { backend: createBackend() });\n' +
          '  await downloadDataset("ml-100k", { force: false });\n' +
          '  return predict(model, data.test).length + svgToPng("<svg/>").length;\n}\n',
      );
      const errors = await promisify(execFile)(TSC, ["-p", dir], { cwd: dir }).then(
        () => "",
        (e: { stdout: string }) => e.stdout,
      );
      const ours = errors.split("\n").filter((line) => line.includes("/dist/") || line.startsWith("use.ts"));
      expect(ours).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});
