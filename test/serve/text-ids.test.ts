import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadFiles } from "../../src/data/files.js";
import { createBackend } from "../../src/kernels/index.js";
import { Recommender } from "../../src/model/recommender.js";
import { buildApp } from "../../src/serve/app.js";
import { RatingsDb } from "../../src/serve/ratings-db.js";
import { serviceState } from "../../src/serve/state.js";
import { fitModel } from "../../src/train/registry.js";
import { tempDir } from "../helpers.js";

// A service over data whose ids are text, with one item "007" beside an item 7.
const { dir, cleanup } = await tempDir();
const items = ["007", "7", ...Array.from({ length: 14 }, (_, i) => `B00${i} X`)];
const lines = ["user,item,rating"];
for (let u = 0; u < 40; u++)
  items.forEach((item, i) => {
    if ((u + 2 * i) % 3 !== 0) lines.push(`user ${u},"${item}",${1 + ((u * i) % 5)}`);
  });
await writeFile(join(dir, "r.csv"), `${lines.join("\n")}\n`);
await writeFile(
  join(dir, "items.csv"),
  `id,title\n${items.map((id, i) => `"${id}",Item ${i}`).join("\n")}\n`,
);
const data = await loadFiles({ ratings: join(dir, "r.csv"), items: join(dir, "items.csv") });
const backend = createBackend("reference");
const model = fitModel("ease", data, { backend }).model;
const rater = fitModel("bias", data, { backend }).model;
const recommender = new Recommender(model, data.userIds, data.itemIds, data.movies, { minRatings: 0, rater });
const info = { kind: "ease", rater: "bias", dataset: data.dataset, split: data.split, config: {} };
const db = new RatingsDb(join(dir, "ratings.db"));
const { app } = await buildApp({
  state: serviceState(recommender, { ...info, scale: data.scale, metrics: {}, history: [] }),
  db,
});
afterAll(async () => {
  await app.close();
  await db.close();
  await cleanup();
});

describe("a service over text ids", () => {
  it("lists a known user's recommendations by his text id, with text movie ids and titles", async () => {
    const res = await app.inject({ url: `/api/users/${encodeURIComponent("user 3")}/recommendations?k=4` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.known).toBe(true);
    expect(body.items).toHaveLength(4);
    for (const m of body.items) {
      expect(items).toContain(String(m.movieId));
      expect(m.title).toBe(`Item ${items.indexOf(String(m.movieId))}`);
    }
  });

  it("stores a visitor's ratings of 007 and 7 apart, and recommends from them", async () => {
    const { user, token } = (await app.inject({ method: "POST", url: "/api/visitors" })).json();
    const authorization = `Bearer ${token}`;
    const put = (movie: string, rating: number) =>
      app.inject({
        method: "PUT",
        url: `/api/users/${user}/ratings/${encodeURIComponent(movie)}`,
        payload: { rating },
        headers: { authorization },
      });
    expect((await put("007", 5)).json()).toMatchObject({ movieId: "007", rating: 5 });
    expect((await put("7", 2)).json()).toMatchObject({ movieId: 7, rating: 2 });
    expect((await put("B003 X", 4)).statusCode).toBe(200);
    const stored = (await app.inject({ url: `/api/users/${user}/ratings` })).json().ratings;
    expect(stored.map((r: { movieId: unknown }) => r.movieId).sort()).toEqual([7, "007", "B003 X"].sort());
    const recs = (await app.inject({ url: `/api/users/${user}/recommendations?k=3` })).json();
    expect(recs.items.map((m: { movieId: unknown }) => m.movieId)).not.toContain("007");
    const removed = await app.inject({
      method: "DELETE",
      url: `/api/users/${user}/ratings/007`,
      headers: { authorization },
    });
    expect(removed.statusCode).toBe(204);
    expect((await app.inject({ url: `/api/users/${user}/ratings` })).json().ratings).toHaveLength(2);
  });

  it("takes text ids in bodies and paths, and a numeric id is a visitor when the model's ids are text", async () => {
    const post = await app.inject({
      method: "POST",
      url: "/api/recommendations",
      payload: { ratings: [{ movieId: "B003 X", rating: 5 }], k: 3 },
    });
    expect(post.statusCode).toBe(200);
    expect(
      (await app.inject({ url: `/api/movies/${encodeURIComponent("B001 X")}?k=2` })).json().movie.title,
    ).toBe("Item 3");
    expect((await app.inject({ url: "/api/users/12345/recommendations" })).json().known).toBe(false);
  });
});
