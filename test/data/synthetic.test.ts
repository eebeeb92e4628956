import { describe, expect, it } from "vitest";
import { generateRatings, parseSyntheticShape } from "../../src/data/synthetic.js";

describe("synthetic ratings", () => {
  it("has exactly the asked shape, the minimum per user, and no repeated pair", () => {
    const shape = parseSyntheticShape("users=300,items=120,ratings=9000,min=5,skew=1.2,seed=4");
    const r = generateRatings(shape);
    expect(r.size).toBe(9000);
    const csr = r.byUser();
    for (let u = 0; u < 300; u++) {
      expect(csr.indptr[u + 1] - csr.indptr[u]).toBeGreaterThanOrEqual(5);
      for (let k = csr.indptr[u] + 1; k < csr.indptr[u + 1]; k++)
        expect(csr.indices[k]).not.toBe(csr.indices[k - 1]);
    }
    expect(r.values.every((v) => v >= 1 && v <= 5 && Number.isInteger(v))).toBe(true);
    expect(generateRatings(shape).values).toEqual(r.values);
  });

  it("has a long tail of item popularity", () => {
    const r = generateRatings(parseSyntheticShape("users=500,items=400,ratings=30000,min=20"));
    const counts = Array.from(
      { length: 400 },
      (_, i) => r.byItem().indptr[i + 1] - r.byItem().indptr[i],
    ).sort((a, b) => b - a);
    expect(counts[0]).toBeGreaterThan(10 * counts[200]);
  });

  it("fills a user who needs almost every item", () => {
    const r = generateRatings(parseSyntheticShape("users=2,items=50,ratings=99,min=49"));
    expect(r.size).toBe(99);
  });

  it("the ml-1m preset matches ML-1M's counts", () => {
    const shape = parseSyntheticShape("ml-1m");
    expect(shape).toMatchObject({ nUsers: 6040, nItems: 3706, nRatings: 1_000_209, minPerUser: 20 });
  });

  it("refuses impossible or malformed shapes", () => {
    expect(() => parseSyntheticShape("users=10,items=5,ratings=100")).toThrow(/cannot exceed users x items/);
    expect(() => parseSyntheticShape("users=10,items=5,ratings=20,min=3")).toThrow(/at least users x min/);
    expect(() => parseSyntheticShape("people=3")).toThrow(/use a preset/);
  });
});
