import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { durationArg } from "../../src/cli/auto-tune.js";
import { createBackend } from "../../src/kernels/index.js";
import { loadModel } from "../../src/store/model-file.js";
import { tempDir } from "../helpers.js";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const DATA = [
  "--dataset",
  "synthetic:users=150,items=60,ratings=5000,min=10",
  "--split",
  "ratio:0.9",
  "--epochs",
  "40",
];

async function aerec(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      maxBuffer: 1 << 24,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** `aerec train --model autorec-i --tune auto` on the small synthetic data, with `extra` flags. */
const tuneAuto = (...extra: string[]) =>
  aerec(["train", "--model", "autorec-i", ...DATA, "--tune", "auto", ...extra]);

describe("train --tune auto", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it("reads durations", () => {
    expect([durationArg("90s"), durationArg("10m"), durationArg("1h"), durationArg("45")]).toEqual([
      90, 600, 3600, 45,
    ]);
    expect(() => durationArg("soon")).toThrow(/a duration such as "90s"/);
  });

  it("tries settings on validation, keeps the best, says what it chose, and stores the trials", async () => {
    const file = join(dir, "auto.safetensors");
    const res = await tuneAuto("--budget", "5m", "--save", file, "--json");
    expect(res.code, res.stderr).toBe(0);
    const { autoTune } = JSON.parse(res.stdout.trim().split("\n").at(-1)!);
    // The defaults, four penalties, two more offsets, two widths.
    expect(autoTune.trials.length).toBe(9);
    const rmses = autoTune.trials.map((t: { validationRmse: number }) => t.validationRmse);
    expect(rmses).toEqual([...rmses].sort((a, b) => a - b));
    expect(autoTune.defaultValidationRmse).toBeGreaterThanOrEqual(rmses[0]);
    expect(res.stderr).toMatch(
      /chose lambda \d+(\.\d+)?, input offset \d+, hidden \d+: validation RMSE \d\.\d{4}, \d\.\d{4} better than the defaults/,
    );
    const loaded = await loadModel(file, createBackend());
    expect(loaded.header.metrics.autoTune).toEqual(autoTune);
    const best = autoTune.trials[0];
    expect(loaded.settings).toMatchObject({
      train: { l2: best.lambda },
      model: { inputOffset: best.inputOffset, hidden: best.hidden },
    });
  });

  it("keeps the settings given as flags, and stops within a short budget", async () => {
    const res = await tuneAuto("--lambda", "40", "--budget", "1s", "--json");
    expect(res.code, res.stderr).toBe(0);
    const { autoTune } = JSON.parse(res.stdout.trim().split("\n").at(-1)!);
    expect(autoTune.trials.every((t: { lambda: number }) => t.lambda === 40)).toBe(true);
    expect(autoTune.trials.length).toBeLessThan(5);
  });

  it("refuses models it has nothing to choose for", async () => {
    const res = await aerec(["train", "--model", "ease", ...DATA.slice(0, 4), "--tune", "auto"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/--tune auto chooses a rating autoencoder's settings/);
  });
});
