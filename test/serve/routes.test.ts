import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { loadData } from "../../src/data/load.js";
import { createBackend } from "../../src/kernels/index.js";
import { easeKind } from "../../src/model/ease.js";
import { Recommender } from "../../src/model/recommender.js";
import { buildApp } from "../../src/serve/app.js";
import { RatingsDb } from "../../src/serve/ratings-db.js";
import { serviceState } from "../../src/serve/state.js";
import { fitModel } from "../../src/train/registry.js";
import { tempDir } from "../helpers.js";

// The routes over an injected recommender fitted in memory, no model file anywhere: EASE ranks, the bias
// baseline predicts the stars shown.
const data = await loadData("synthetic:users=100,items=40,ratings=2500,min=8", { seed: 4 });
const { dir, cleanup } = await tempDir();
const db = new RatingsDb(join(dir, "ratings.db"));
const backend = createBackend("reference");
const { model, history } = fitModel("ease", data, { backend, settings: easeKind.override({ lambda: 50 }) });
const rater = fitModel("bias", data, { backend }).model;
const recommender = new Recommender(model, data.userIds, data.itemIds, data.movies, { minRatings: 0, rater });
const info = {
  kind: "ease",
  rater: "bias",
  dataset: data.dataset,
  split: data.split,
  config: {},
  scale: data.scale,
  metrics: {},
  history,
};
const { app } = await buildApp({ state: serviceState(recommender, info), db, adminToken: "admin" });
const admin = { authorization: "Bearer admin" };
afterAll(async () => {
  await app.close();
  await db.close();
  await cleanup();
});

describe("route plugins over an injected recommender", () => {
  it("serve a ranker with a rater: model info, a user's list with predicted stars, anonymous ratings", async () => {
    const about = (await app.inject({ url: "/api/model" })).json();
    expect(about).toMatchObject({ kind: "ease", rater: "bias", movies: 40 });
    const user = data.userIds.ids[0];
    const known = (await app.inject({ url: `/api/users/${user}/recommendations?k=5` })).json();
    expect(known.known).toBe(true);
    expect(known.items).toHaveLength(5);
    // Ranked by EASE's scores; the stars are the bias model's predictions for the same movies.
    const scores = known.items.map((m: { score: number }) => m.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const expected = rater.scoreUsers([0]);
    for (const m of known.items) {
      const stars = Math.min(5, Math.max(1, expected[data.itemIds.indexOf(m.movieId)]));
      expect(m.predicted).toBeCloseTo(stars, 5);
    }
    const anonymous = await app.inject({
      method: "POST",
      url: "/api/recommendations",
      payload: { ratings: [{ movieId: data.itemIds.ids[2], rating: 5 }], k: 3 },
    });
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.json().items).toHaveLength(3);
  });

  it("store a visitor's rating, and refuse a reload with no model file behind it", async () => {
    const put = await app.inject({
      method: "PUT",
      url: `/api/users/visitor-1/ratings/${data.itemIds.ids[1]}`,
      payload: { rating: 4 },
      headers: admin,
    });
    expect(put.statusCode).toBe(200);
    expect(await db.list("visitor-1")).toHaveLength(1);
    const reload = await app.inject({ method: "POST", url: "/api/admin/reload", headers: admin });
    expect(reload.statusCode).toBe(409);
    expect(reload.json().message).toMatch(/no model file/);
  });

  it("fold a visitor in once for a set of ratings and k, and again when he rates", async () => {
    const foldIn = vi.spyOn(recommender, "forRatings");
    try {
      const rate = (movie: number, rating: number) =>
        app.inject({
          method: "PUT",
          url: `/api/users/visitor-2/ratings/${movie}`,
          payload: { rating },
          headers: admin,
        });
      const list = async (k: number) =>
        (await app.inject({ url: `/api/users/visitor-2/recommendations?k=${k}` })).json().items;
      await rate(data.itemIds.idAt(3) as number, 5);
      const first = await list(4);
      expect(await list(4)).toEqual(first);
      expect(foldIn).toHaveBeenCalledTimes(1);
      await list(6);
      expect(foldIn).toHaveBeenCalledTimes(2);
      await rate(data.itemIds.idAt(4) as number, 2);
      await list(4);
      expect(foldIn).toHaveBeenCalledTimes(3);
    } finally {
      foldIn.mockRestore();
    }
  });
});
