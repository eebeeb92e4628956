import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rankingMetrics } from "../../src/eval/ranking.js";

const nItems = 60;
/** A user's relevant items (1..20 of the catalogue) and a ranking of the whole catalogue. */
const user = fc
  .tuple(
    fc.uniqueArray(fc.integer({ min: 0, max: nItems - 1 }), { minLength: 1, maxLength: 20 }),
    fc.shuffledSubarray(
      Array.from({ length: nItems }, (_, i) => i),
      { minLength: nItems },
    ),
  )
  .map(([relevant, order]) => ({ relevant: new Set(relevant), order }));

describe("ranking metrics (properties)", () => {
  it("give 1 for a perfect ranking at every K, with recall capped at min(K, relevant)", () => {
    fc.assert(
      fc.property(
        fc.array(user, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 40 }),
        (users, k) => {
          const lists = users.map(({ relevant, order }) => ({
            recommended: [...relevant, ...order.filter((i) => !relevant.has(i))],
            relevant,
          }));
          const m = rankingMetrics(lists, k, nItems, true);
          for (const value of [m.ndcg, m.recall, m.map, m.hitRate, m.mrr]) expect(value).toBeCloseTo(1, 10);
        },
      ),
    );
  });

  it("stay within [0, 1] for any ranking, capped recall or not", () => {
    fc.assert(
      fc.property(
        fc.array(user, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 70 }),
        fc.boolean(),
        (users, k, capped) => {
          const lists = users.map(({ relevant, order }) => ({ recommended: order, relevant }));
          const m = rankingMetrics(lists, k, nItems, capped);
          for (const [name, value] of Object.entries(m)) {
            if (name === "users") continue;
            expect(value, name).toBeGreaterThanOrEqual(0);
            expect(value, name).toBeLessThanOrEqual(1 + 1e-12);
          }
        },
      ),
    );
  });
});
