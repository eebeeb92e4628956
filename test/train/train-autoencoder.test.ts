import { describe, expect, it, onTestFinished } from "vitest";
import { loadData } from "../../src/data/load.js";
import { validationSplit } from "../../src/data/splits.js";
import { ratingMetrics } from "../../src/eval/metrics.js";
import { createBackend } from "../../src/kernels/index.js";
import { setSplitMin } from "../../src/kernels/wasm.js";
import { type AutoencoderConfig, AutoencoderModel } from "../../src/model/autoencoder-model.js";
import { predict } from "../../src/model/model.js";
import { TrainingDivergedError } from "../../src/train/errors.js";
import { fitAutoencoder } from "../../src/train/fit.js";
import { lbfgsDefaults } from "../../src/train/lbfgs.js";
import { MODEL_DEFAULTS, TUTORIAL_PRESET } from "../../src/train/presets.js";
import { trainAutoencoder } from "../../src/train/train-autoencoder.js";

const data = await loadData("synthetic:users=300,items=100,ratings=12000,min=10", { seed: 5 });
const SAE = MODEL_DEFAULTS.sae;
const small: AutoencoderConfig = { ...SAE.model, hidden: [12, 6, 12] };
const meanRmse = ratingMetrics(
  new Float32Array(data.test.size).fill(data.train.mean()),
  data.test.values,
).rmse;

function model(threads = 1, config: AutoencoderConfig = small, seed = 1) {
  const m = new AutoencoderModel("test", config, data.train, data.scale, createBackend("auto", threads));
  m.network.initialize(seed);
  return m;
}

describe("trainAutoencoder", () => {
  it("learns: the corrected SAE beats the global mean on held-out ratings", () => {
    const m = model();
    const result = trainAutoencoder(m, { ...SAE.train, epochs: 100, patience: 0 });
    expect(result.history).toHaveLength(100);
    expect(result.history[99].trainLoss).toBeLessThan(result.history[0].trainLoss);
    expect(ratingMetrics(predict(m, data.test), data.test.values).rmse).toBeLessThan(meanRmse - 0.05);
  });

  it.each(["autorec-i", "autorec-u", "deep-ae"] as const)("%s learns with its defaults (small)", (kind) => {
    const defaults = MODEL_DEFAULTS[kind];
    const settings = {
      ...defaults,
      model: { ...defaults.model, hidden: defaults.model.hidden.map((h) => Math.ceil(h / 4)) },
      train: { ...defaults.train, epochs: 150 },
    };
    const { model: m, history } = fitAutoencoder(kind, data, settings, createBackend());
    expect(history.length).toBeGreaterThan(3);
    expect(ratingMetrics(predict(m, data.test), data.test.values).rmse).toBeLessThan(meanRmse - 0.02);
  });

  it("dense re-feeding and input dropout train too", () => {
    const defaults = MODEL_DEFAULTS["deep-ae"];
    for (const extra of [{ refeed: true }, { inputDropout: 0.2 }]) {
      const settings = {
        ...defaults,
        model: { ...defaults.model, hidden: [16, 8, 16] },
        train: { ...defaults.train, epochs: 100, ...extra },
      };
      const { model: m } = fitAutoencoder("deep-ae", data, settings, createBackend());
      expect(ratingMetrics(predict(m, data.test), data.test.values).rmse).toBeLessThan(meanRmse - 0.02);
    }
  });

  it("is reproducible for a seed and does not depend on the thread count", () => {
    const config = { ...TUTORIAL_PRESET.train, epochs: 3 };
    // This problem is small: without a lower threshold every kernel would stay on one thread.
    const shipped = setSplitMin(64);
    onTestFinished(() => {
      setSplitMin(shipped);
    });
    const runs = [1, 1, 2].map((threads) => {
      const m = model(threads, { ...small, inputScaling: "none" });
      trainAutoencoder(m, config);
      m.network.backend.close();
      return m.network.params.slice();
    });
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });

  it("stops early on validation and keeps the best epoch's parameters", () => {
    const { fit, validation } = validationSplit(data.train, 0.1, 1);
    const m = new AutoencoderModel("test", small, fit, data.scale, createBackend());
    m.network.initialize(1);
    const optimizer = { ...SAE.train.optimizer, lr: 0.05 };
    const result = trainAutoencoder(m, { ...SAE.train, optimizer, patience: 3 }, { validation });
    const best = Math.min(...result.history.map((e) => e.validationRmse!));
    expect(result.history.length).toBe(result.bestEpoch + 3);
    expect(result.history[result.bestEpoch - 1].validationRmse).toBe(best);
    expect(ratingMetrics(predict(m, validation), validation.values).rmse).toBeCloseTo(best, 6);
  });

  it("full-batch L-BFGS lowers the regularised objective every iteration", () => {
    const m = model(1, { ...small, orientation: "item", hidden: [16] });
    const result = trainAutoencoder(m, {
      ...SAE.train,
      optimizer: lbfgsDefaults(),
      l2: 1,
      epochs: 15,
      patience: 0,
    });
    const losses = result.history.map((e) => e.trainLoss);
    expect(losses.at(-1)!).toBeLessThan(losses[0] - 0.1);
  });

  it("an exploding but finite loss stops training too", () => {
    // Plain SGD on the tutorial's never-reset gradients: every step is bigger than the last.
    const m = model(1, { ...small, inputScaling: "none" });
    const sgd = { kind: "sgd" as const, lr: 0.2, momentum: 0, weightDecay: 0 };
    let error: unknown;
    try {
      trainAutoencoder(m, { ...TUTORIAL_PRESET.train, epochs: 30, optimizer: sgd });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect(Number.isFinite((error as TrainingDivergedError).loss)).toBe(true);
    expect(m.network.params.every(Number.isFinite)).toBe(true);
  });

  it("a diverging run stops with TrainingDivergedError and keeps the last good parameters", () => {
    const m = model(1, { ...small, inputScaling: "none" });
    const config = { ...TUTORIAL_PRESET.train, epochs: 50, optimizer: { ...SAE.train.optimizer, lr: 1e30 } };
    expect(() => trainAutoencoder(m, config)).toThrow(TrainingDivergedError);
    expect(() => trainAutoencoder(m, config)).toThrow(
      /training diverged at epoch \d+ .*Lower the learning rate/,
    );
    expect(m.network.params.every(Number.isFinite)).toBe(true);
  });
});
