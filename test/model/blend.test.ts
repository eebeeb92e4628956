import { describe, expect, it } from "vitest";
import { loadData } from "../../src/data/load.js";
import { Rng } from "../../src/data/random.js";
import { validationSplit } from "../../src/data/splits.js";
import { ratingMetrics } from "../../src/eval/metrics.js";
import { createBackend } from "../../src/kernels/index.js";
import { biasKind } from "../../src/model/bias.js";
import { Blend, blendWeights, crossValidatedBlendRmse } from "../../src/model/blend.js";
import { type Model, predict } from "../../src/model/model.js";
import { BLEND_VALIDATION, fitBlend } from "../../src/train/fit-blend.js";
import { modelKind } from "../../src/train/registry.js";

const SCALE = { min: 1, max: 5, step: 1 };

describe("blend weights", () => {
  const rng = new Rng(2);
  const a = Float64Array.from({ length: 400 }, () => 1 + 4 * rng.float());
  const b = Float64Array.from({ length: 400 }, () => 1 + 4 * rng.float());

  it("recover the intercept and weights that made the targets", () => {
    const y = a.map((x, i) => 0.25 + 0.3 * x + 0.6 * b[i]);
    const w = blendWeights([a, b], y);
    expect(Array.from(w).map((v) => Number(v.toFixed(6)))).toEqual([0.25, 0.3, 0.6]);
    expect(crossValidatedBlendRmse([a, b], y, { min: -10, max: 10, step: 1 })).toBeLessThan(1e-6);
  });

  it("fit only the rows given, and cross-validation is not flattered by the fit", () => {
    const noisy = a.map((x, i) => x + (i < 200 ? 0 : 3 * (rng.float() - 0.5)));
    const firstHalf = Array.from({ length: 200 }, (_, i) => i);
    expect(blendWeights([a], noisy, firstHalf)[1]).toBeCloseTo(1, 6);
    const w = blendWeights([a, b], noisy);
    const inSample = Math.sqrt(
      noisy.reduce(
        (s, y, i) => s + (Math.min(5, Math.max(1, w[0] + w[1] * a[i] + w[2] * b[i])) - y) ** 2,
        0,
      ) / 400,
    );
    expect(crossValidatedBlendRmse([a, b], noisy, SCALE)).toBeGreaterThan(inSample);
  });
});

describe("fitBlend", async () => {
  const data = await loadData("synthetic:users=300,items=100,ratings=12000,min=10", { seed: 5 });

  it("blends members judged on validation ratings they never saw, and beats each of them", () => {
    const backend = createBackend("auto");
    try {
      const outcome = fitBlend(
        data,
        { members: ["bias", "mf", "mean"], seed: 3 },
        { backend, kinds: modelKind },
      );
      const blend = outcome.model;
      expect(blend.members.map((m) => m.kind)).toEqual(["bias", "mf", "mean"]);
      // Each member's validation RMSE is that of the same model fitted without the validation ratings.
      const { fit, validation } = validationSplit(data.train, BLEND_VALIDATION, 3);
      const biasOnFit = predict(
        biasKind.fit({ ...data, train: fit }, biasKind.defaults, { backend }).model,
        validation,
      );
      expect(outcome.members[0].validationRmse).toBeCloseTo(
        ratingMetrics(biasOnFit, validation.values).rmse,
        10,
      );
      // The kept members are fitted on every training rating.
      expect(blend.train).toBe(data.train);
      const test = (m: Model) => ratingMetrics(predict(m, data.test), data.test.values).rmse;
      const best = Math.min(...blend.members.map(test));
      expect(test(blend)).toBeLessThan(best);
      const predictions = predict(blend, data.test);
      expect(Math.min(...predictions)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...predictions)).toBeLessThanOrEqual(5);
      expect(blend.scoreUsers([0])).toHaveLength(data.train.nItems);
    } finally {
      backend.close();
    }
  });

  it("takes an autoencoder's validation predictions from before it read those ratings", () => {
    const backend = createBackend("auto");
    try {
      const outcome = fitBlend(data, { members: ["sae"], seed: 1 }, { backend, kinds: modelKind });
      const { validation } = validationSplit(data.train, BLEND_VALIDATION, 1);
      const kept = outcome.model.members[0];
      // The kept SAE reads every training rating, the validation ones included, so it reconstructs them
      // better than the early-stopped one that the weights were fit to.
      const keptRmse = ratingMetrics(predict(kept, validation), validation.values).rmse;
      expect(outcome.members[0].validationRmse).toBeGreaterThan(keptRmse);
    } finally {
      backend.close();
    }
  });

  it("refuses a blend of no models and mismatched weights", () => {
    const backend = createBackend("reference");
    expect(() => new Blend([], new Float64Array(1), SCALE)).toThrow(/at least one model/);
    const bias = biasKind.fit(data, biasKind.defaults, { backend }).model;
    expect(() => new Blend([bias], new Float64Array(1), SCALE)).toThrow(/2 weights/);
  });
});
