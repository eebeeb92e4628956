import { describe, expect, it } from "vitest";
import { loadData } from "../../src/data/load.js";
import { validationSplit } from "../../src/data/splits.js";
import { ratingMetrics } from "../../src/eval/metrics.js";
import { createBackend } from "../../src/kernels/index.js";
import { SaeModel } from "../../src/model/sae-model.js";
import { TrainingDivergedError } from "../../src/train/errors.js";
import { SAE_DEFAULT, TUTORIAL_PRESET } from "../../src/train/sae-presets.js";
import { trainSae } from "../../src/train/train-sae.js";

const data = await loadData("synthetic:users=300,items=100,ratings=12000,min=10", { seed: 5 });

function model(threads = 1, scaling = SAE_DEFAULT.inputScaling, seed = 1) {
  const m = new SaeModel([12, 6, 12], data.train, data.scale, createBackend("auto", threads), scaling);
  m.network.initialize(seed);
  return m;
}

describe("trainSae", () => {
  it("learns: the corrected default beats the global mean on held-out ratings", () => {
    const m = model();
    const result = trainSae(m, { ...SAE_DEFAULT.train, epochs: 60, patience: 0 });
    expect(result.history).toHaveLength(60);
    expect(result.history[59].trainLoss).toBeLessThan(result.history[0].trainLoss);
    const rmse = ratingMetrics(m.predict(data.test), data.test.values).rmse;
    const meanRmse = ratingMetrics(
      new Float32Array(data.test.size).fill(data.train.mean()),
      data.test.values,
    ).rmse;
    expect(rmse).toBeLessThan(meanRmse - 0.05);
  });

  it("is reproducible for a seed and does not depend on the thread count", () => {
    const config = { ...TUTORIAL_PRESET.train, epochs: 3 };
    const runs = [1, 1, 2].map((threads) => {
      const m = model(threads, "none");
      trainSae(m, config);
      m.network.backend.close();
      return m.network.params.slice();
    });
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });

  it("stops early on validation and keeps the best epoch's parameters", () => {
    const { fit, validation } = validationSplit(data.train, 0.1, 1);
    const m = new SaeModel([12, 6, 12], fit, data.scale, createBackend(), "inverse-sqrt-count");
    m.network.initialize(1);
    const result = trainSae(
      m,
      { ...SAE_DEFAULT.train, optimizer: { ...SAE_DEFAULT.train.optimizer, lr: 0.05 }, patience: 3 },
      { validation },
    );
    const best = Math.min(...result.history.map((e) => e.validationRmse!));
    expect(result.history.length).toBe(result.bestEpoch + 3);
    expect(result.history[result.bestEpoch - 1].validationRmse).toBe(best);
    expect(ratingMetrics(m.predict(validation), validation.values).rmse).toBeCloseTo(best, 6);
  });

  it("a diverging run stops with TrainingDivergedError and keeps the last good parameters", () => {
    const m = model(1, "none");
    const config = {
      ...TUTORIAL_PRESET.train,
      epochs: 50,
      optimizer: { ...SAE_DEFAULT.train.optimizer, lr: 1e30 },
    };
    let error: unknown;
    try {
      trainSae(m, config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as Error).message).toMatch(/training diverged at epoch \d+ .*Lower the learning rate/);
    expect(m.network.params.every(Number.isFinite)).toBe(true);
  });
});
