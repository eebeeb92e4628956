import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Ratings } from "../../src/data/ratings.js";
import { evaluateRanking, rankingMetrics } from "../../src/eval/ranking.js";

const list = (recommended: number[], relevant: number[]) => ({ recommended, relevant: new Set(relevant) });

describe("ranking metrics", () => {
  it("match hand-computed values", () => {
    // Hits at ranks 1 and 3 of 4; 3 relevant movies.
    const m = rankingMetrics([list([5, 1, 7, 2], [5, 7, 9])], 4, 10);
    expect(m.precision).toBeCloseTo(2 / 4);
    expect(m.recall).toBeCloseTo(2 / 3);
    expect(m.ndcg).toBeCloseTo((1 + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3) + 1 / Math.log2(4)));
    expect(m.map).toBeCloseTo((1 + 2 / 3) / 3);
    expect(m.hitRate).toBe(1);
    expect(m.mrr).toBe(1);
    expect(m.coverage).toBeCloseTo(4 / 10);
  });

  it("skip users with nothing relevant, and are 0 when no user counts", () => {
    const m = rankingMetrics([list([1, 2], [1]), list([3, 4], [])], 2, 5);
    expect(m.users).toBe(1);
    expect(m.hitRate).toBe(1);
    expect(m.coverage).toBeCloseTo(4 / 5);
    expect(rankingMetrics([list([1], [])], 1, 3)).toMatchObject({ precision: 0, ndcg: 0, users: 0 });
  });

  const cases = fc
    .tuple(
      fc.integer({ min: 1, max: 8 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 20 }),
    )
    .chain(([k, ranked]) =>
      fc.record({
        k: fc.constant(k),
        ranked: fc.constant(ranked),
        relevant: fc.subarray(ranked, { minLength: 1 }),
      }),
    );

  it("stay within [0, 1] (property)", () => {
    fc.assert(
      fc.property(cases, ({ k, ranked, relevant }) => {
        const m = rankingMetrics([list(ranked, relevant)], k, 31);
        for (const v of [m.precision, m.recall, m.ndcg, m.map, m.hitRate, m.mrr, m.coverage]) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1 + 1e-12);
        }
      }),
    );
  });

  it("give 1 for a perfect ranking (property)", () => {
    fc.assert(
      fc.property(cases, ({ k, ranked, relevant }) => {
        const others = ranked.filter((x) => !relevant.includes(x));
        const m = rankingMetrics([list([...relevant, ...others], relevant)], k, 31);
        expect(m.ndcg).toBeCloseTo(1, 10);
        expect(m.map).toBeCloseTo(1, 10);
        expect(m.mrr).toBe(1);
        expect(m.precision).toBeCloseTo(Math.min(k, relevant.length) / k, 10);
      }),
    );
  });

  it("do not depend on the order of the relevant set or of the users (property)", () => {
    fc.assert(
      fc.property(cases, cases, (a, b) => {
        const k = a.k;
        const one = rankingMetrics([list(a.ranked, a.relevant), list(b.ranked, b.relevant)], k, 31);
        const two = rankingMetrics(
          [list(b.ranked, [...b.relevant].reverse()), list(a.ranked, a.relevant)],
          k,
          31,
        );
        expect(two.ndcg).toBeCloseTo(one.ndcg, 12);
        expect(two.map).toBeCloseTo(one.map, 12);
        expect(two.coverage).toBeCloseTo(one.coverage, 12);
      }),
    );
  });

  it("evaluateRanking ranks only movies unrated in training against test ratings >= threshold", () => {
    // User 0 rated movie 0 in training; his test has movie 2 (5 stars, relevant) and 3 (2 stars, not).
    const train = new Ratings(Int32Array.of(0), Int32Array.of(0), Float32Array.of(5), 1, 4);
    const test = new Ratings(Int32Array.of(0, 0), Int32Array.of(2, 3), Float32Array.of(5, 2), 1, 4);
    const scores = Float32Array.of(9, 1, 8, 7);
    const m = evaluateRanking(() => scores, train, test, { k: 1, threshold: 4 });
    expect(m).toMatchObject({ precision: 1, hitRate: 1, users: 1 });
    expect(m.coverage).toBeCloseTo(1 / 4);
  });
});
