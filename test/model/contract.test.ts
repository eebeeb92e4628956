import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadData } from "../../src/data/load.js";
import { Ratings } from "../../src/data/ratings.js";
import { createBackend } from "../../src/kernels/index.js";
import { type Model, predict } from "../../src/model/model.js";
import { Recommender } from "../../src/model/recommender.js";
import { loadModel, saveModel } from "../../src/store/model-file.js";
import { checkSettings, fitModel, MODEL_REGISTRY } from "../../src/train/registry.js";
import { tempDir } from "../helpers.js";

// Every kind in the registry passes these on a small synthetic data set; a new kind runs them unchanged.
// Iterative kinds are shrunk through their own overrides so that each fit takes a fraction of a second.
const data = await loadData("synthetic:users=120,items=50,ratings=3000,min=8", { seed: 3 });
const { nUsers, nItems } = data.train;
const backend = createBackend("auto", 2);
const { dir, cleanup } = await tempDir();
afterAll(async () => {
  backend.close();
  await cleanup();
});

/** A kind's settings made small: few epochs and small layers where it has them; two runs averaged where it averages. */
function smallSettings(name: string, seed = 1): unknown {
  const kind = MODEL_REGISTRY.find((k) => k.name === name)!;
  const tries = [
    { epochs: 8, hidden: [6], runs: 2 },
    { epochs: 8, hidden: [6] },
    { epochs: 8, hidden: [6, 4, 6] },
    { epochs: 8 },
    {},
  ];
  for (const overrides of tries) {
    try {
      const settings = kind.override({ ...overrides, seed });
      return checkSettings(name, settings);
    } catch {}
  }
  return kind.override({ seed });
}

function fitKind(name: string, seed = 1): Model {
  const members = name === "blend" ? { members: ["bias", "mf", "mean"], seed } : undefined;
  return fitModel(name, data, { backend, settings: members ?? smallSettings(name, seed) }).model;
}

describe.each(MODEL_REGISTRY.map((k) => k.name))("the %s model", (name) => {
  const model = fitKind(name);

  it("says what it is and scores every item for a batch of users", () => {
    expect(model.kind).toBe(name);
    expect(model.describe()).toContain(name);
    const scores = model.scoreUsers([0, 5, 7]);
    expect(scores).toHaveLength(3 * nItems);
    expect(scores.every(Number.isFinite)).toBe(true);
    expect(Array.from(model.scoreUsers([5]))).toEqual(Array.from(scores.subarray(nItems, 2 * nItems)));
  });

  it("clips predictions to the scale and gives unknown users and items the documented fallback", () => {
    const predicted = predict(model, data.test);
    expect(predicted).toHaveLength(data.test.size);
    for (const p of predicted) {
      expect(p).toBeGreaterThanOrEqual(data.scale.min);
      expect(p).toBeLessThanOrEqual(data.scale.max);
    }
    // A user and a movie beyond the training ratings: item mean, user mean, global mean.
    const pairs = new Ratings(
      Int32Array.of(nUsers, 0, nUsers),
      Int32Array.of(0, nItems, nItems),
      new Float32Array(3),
      nUsers + 1,
      nItems + 1,
    );
    const byItem = data.train.byItem();
    const byUser = data.train.byUser();
    const mean = (csr: typeof byItem, r: number) => {
      let s = 0;
      for (let k = csr.indptr[r]; k < csr.indptr[r + 1]; k++) s += csr.values[k];
      return s / (csr.indptr[r + 1] - csr.indptr[r]);
    };
    const fallback = predict(model, pairs);
    expect(fallback[0]).toBeCloseTo(mean(byItem, 0), 5);
    expect(fallback[1]).toBeCloseTo(mean(byUser, 0), 5);
    expect(fallback[2]).toBeCloseTo(data.train.mean(), 5);
  });

  it("recommends unrated items, and k larger than the catalogue returns the candidates", () => {
    const rec = new Recommender(model, data.userIds, data.itemIds, new Map(), { minRatings: 0, backend });
    const userId = data.userIds.ids[3];
    const rated = new Set(rec.trainingRatings(userId).map((r) => r.movieId));
    const { known, items } = rec.forUser(userId, 10_000);
    expect(known).toBe(true);
    expect(items).toHaveLength(nItems - rated.size);
    for (const m of items) expect(rated.has(m.movieId)).toBe(false);
    expect(rec.forUser(999_999, 5).known).toBe(false);
  });

  it("folds in a new person's ratings without retraining", () => {
    const rec = new Recommender(model, data.userIds, data.itemIds, new Map(), { minRatings: 0, backend });
    const ids = data.itemIds.ids;
    const ratings = [
      { movieId: ids[1], rating: 5 },
      { movieId: ids[4], rating: 1 },
      { movieId: ids[9], rating: 4 },
    ];
    const items = rec.forRatings(ratings, 100);
    expect(items).toHaveLength(nItems - 3);
    expect(items.some((m) => ratings.some((r) => r.movieId === m.movieId))).toBe(false);
    expect(model.foldIn([1, 4, 9], [5, 1, 4]).every(Number.isFinite)).toBe(true);
    expect(() => model.foldIn([], [])).toThrow(/no ratings/);
  });

  it("gives the same result for the same seed", () => {
    expect(predict(fitKind(name), data.test)).toEqual(predict(model, data.test));
  });

  it("saves and loads to identical predictions, scores and fold-in", async () => {
    const file = join(dir, `${name}.safetensors`);
    const settings = name === "blend" ? { members: ["bias", "mf", "mean"], seed: 1 } : smallSettings(name);
    await saveModel(file, model, {
      settings,
      history: [],
      dataset: data.dataset,
      split: data.split,
      userIds: data.userIds,
      itemIds: data.itemIds,
      movies: new Map(),
      metrics: {},
    });
    const loaded = await loadModel(file, backend);
    expect(loaded.model.kind).toBe(name);
    expect(loaded.settings).toEqual(settings);
    expect(predict(loaded.model, data.test)).toEqual(predict(model, data.test));
    expect(loaded.model.scoreUsers([2, 3])).toEqual(model.scoreUsers([2, 3]));
    expect(loaded.model.foldIn([1, 4], [5, 2])).toEqual(model.foldIn([1, 4], [5, 2]));
  });

  it("refuses bad settings with a message naming the field, and settings it does not take by name", () => {
    const kind = MODEL_REGISTRY.find((k) => k.name === name)!;
    const defaults = kind.defaults as Record<string, unknown>;
    const field = Object.keys(defaults)[0];
    if (field) {
      expect(() => checkSettings(name, { ...defaults, [field]: "not a setting" })).toThrow(
        new RegExp(`${name} settings: ${field}`),
      );
    }
    expect(() => checkSettings(name, { ...defaults, bogus: 1 })).toThrow(/bogus|Unrecognized/);
    expect(() => kind.override({ tied: true, members: ["x"], refeed: true })).toThrow(/not apply|members/);
  });
});
