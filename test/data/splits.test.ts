import { describe, expect, it } from "vitest";
import { compareRawIds, Ratings, type RawId } from "../../src/data/ratings.js";
import { kfoldSplit, parseSplit, ratioSplit, validationSplit } from "../../src/data/splits.js";

const ratings = (n: number) =>
  new Ratings(
    Int32Array.from({ length: n }, (_, i) => i % 10),
    Int32Array.from({ length: n }, (_, i) => Math.floor(i / 10)),
    Float32Array.from({ length: n }, (_, i) => (i % 5) + 1),
    10,
    Math.ceil(n / 10),
  );
const key = (r: Ratings, k: number) => r.users[k] * 1000 + r.items[k];
const keys = (r: Ratings) => Array.from({ length: r.size }, (_, k) => key(r, k));

describe("splits", () => {
  it("parses split names and refuses bad ones with the choices", () => {
    expect(parseSplit("u3")).toEqual({ kind: "predefined", name: "u3" });
    expect(parseSplit("ratio:0.9")).toEqual({ kind: "ratio", trainFraction: 0.9 });
    expect(parseSplit("kfold:5:2")).toEqual({ kind: "kfold", k: 5, fold: 2 });
    for (const bad of ["u6", "ratio:1.5", "ratio:0", "kfold:5:6", "kfold:1:1", "random"]) {
      expect(() => parseSplit(bad)).toThrow(/use u1\.\.u5, ua or ub/);
    }
  });

  it("ratio split partitions the ratings, reproducibly for a seed", () => {
    const all = ratings(1000);
    const a = ratioSplit(all, 0.9, 3);
    expect(a.train.size).toBe(900);
    expect(a.test.size).toBe(100);
    expect(new Set([...keys(a.train), ...keys(a.test)]).size).toBe(1000);
    expect(keys(ratioSplit(all, 0.9, 3).test)).toEqual(keys(a.test));
    expect(keys(ratioSplit(all, 0.9, 4).test)).not.toEqual(keys(a.test));
  });

  it("k-fold test parts are disjoint and cover everything", () => {
    const all = ratings(503);
    const tests = [1, 2, 3, 4, 5].map((f) => kfoldSplit(all, 5, f, 1));
    const seen = tests.flatMap((t) => keys(t.test));
    expect(seen.length).toBe(503);
    expect(new Set(seen).size).toBe(503);
    for (const t of tests) expect(t.train.size + t.test.size).toBe(503);
  });

  it("validation comes out of training only", () => {
    const { train, test } = ratioSplit(ratings(1000), 0.9, 1);
    const { fit, validation } = validationSplit(train, 0.1, 1);
    expect(fit.size + validation.size).toBe(900);
    const testKeys = new Set(keys(test));
    expect(keys(validation).some((k) => testKeys.has(k))).toBe(false);
  });
});

describe("holdOutUsers (strong generalisation)", () => {
  it("takes whole users out of training and splits each one's positives 80/20", async () => {
    const { loadData } = await import("../../src/data/load.js");
    const { holdOutUsers } = await import("../../src/data/splits.js");
    const data = await loadData("synthetic:users=200,items=80,ratings=8000,min=10", { seed: 3 });
    const { train, heldOut } = holdOutUsers(data.train, 30, 4, 7);
    expect(heldOut).toHaveLength(30);
    const trained = new Set(train.users);
    for (const h of heldOut) {
      expect(trained.has(h.user)).toBe(false);
      expect(h.items.length + h.target.size).toBeGreaterThanOrEqual(5);
      expect(Math.abs(h.items.length / (h.items.length + h.target.size) - 0.8)).toBeLessThan(0.15);
      for (const v of h.values) expect(v).toBeGreaterThanOrEqual(4);
      for (const i of h.items) expect(h.target.has(i)).toBe(false);
    }
    expect(train.size).toBe(
      data.train.size -
        heldOut.reduce(
          (n, h) => n + data.train.byUser().indptr[h.user + 1] - data.train.byUser().indptr[h.user],
          0,
        ),
    );
    expect(holdOutUsers(data.train, 30, 4, 7).heldOut.map((h) => h.user)).toEqual(heldOut.map((h) => h.user));
    expect(() => holdOutUsers(data.train, 10_000, 4, 7)).toThrow(/--holdout-users 10000: choose from 1 to/);
  });
});

describe("keepItemsRatedAtLeast", () => {
  it("drops the items with fewer training ratings from both parts and numbers the rest anew", async () => {
    const { loadData } = await import("../../src/data/load.js");
    const { keepItemsRatedAtLeast, minRatingsForItems } = await import("../../src/data/splits.js");
    const data = await loadData("synthetic:users=100,items=60,ratings=3000,min=5,skew=1.5", { seed: 2 });
    const counts = new Map<RawId, number>();
    for (let k = 0; k < data.train.size; k++) {
      const id = data.itemIds.ids[data.train.items[k]];
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const kept = keepItemsRatedAtLeast(data, 40);
    expect(Array.from(kept.itemIds.ids)).toEqual(
      [...counts]
        .filter(([, c]) => c >= 40)
        .map(([id]) => id)
        .sort(compareRawIds),
    );
    expect(kept.train.nItems).toBe(kept.itemIds.size);
    for (const part of [kept.train, kept.test])
      for (const i of part.items) expect(i).toBeLessThan(kept.itemIds.size);
    expect(kept.train.size).toBe([...counts.values()].filter((c) => c >= 40).reduce((a, b) => a + b, 0));
    const threshold = minRatingsForItems(data.train, 10);
    expect(keepItemsRatedAtLeast(data, threshold).itemIds.size).toBeLessThanOrEqual(10);
    expect(keepItemsRatedAtLeast(data, threshold - 1).itemIds.size).toBeGreaterThan(10);
  });
});
