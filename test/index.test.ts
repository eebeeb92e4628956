import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  createBackend,
  fitModel,
  loadData,
  loadModel,
  MODEL_DEFAULTS,
  predict,
  Recommender,
  ratingMetrics,
  saveModel,
} from "../src/index.js";
import { tempDir } from "./helpers.js";

// The README's library example, on synthetic data and a small model so that it runs in a second.
describe("the public API, as the README shows it", () => {
  it("trains, measures, recommends, finds similar movies and saves", async () => {
    const data = await loadData("synthetic:users=150,items=60,ratings=5000,min=10");
    const defaults = MODEL_DEFAULTS["autorec-i"];
    const settings = {
      ...defaults,
      model: { ...defaults.model, hidden: [16] },
      train: { ...defaults.train, epochs: 30, l2: 10 },
    };
    const backend = createBackend("auto", 2);
    const { model, history } = fitModel("autorec-i", data, { backend, settings });
    expect(ratingMetrics(predict(model, data.test), data.test.values).rmse).toBeLessThan(1.1);

    const recommender = new Recommender(model, data.userIds, data.itemIds, data.movies);
    expect(recommender.forUser(1, 10).items).toHaveLength(10);
    expect(
      recommender.forRatings(
        [
          { movieId: 5, rating: 5 },
          { movieId: 7, rating: 4 },
        ],
        10,
      ),
    ).toHaveLength(10);
    expect(recommender.similar(5, 5)).toHaveLength(5);

    const { dir, cleanup } = await tempDir();
    try {
      const file = join(dir, "autorec.safetensors");
      await saveModel(file, model, {
        settings,
        history,
        dataset: data.dataset,
        split: data.split,
        metrics: {},
        userIds: data.userIds,
        itemIds: data.itemIds,
        movies: data.movies,
      });
      const loaded = await loadModel(file, createBackend());
      expect(predict(loaded.model, data.test)).toEqual(predict(model, data.test));
    } finally {
      await cleanup();
      backend.close();
    }
  });
});
