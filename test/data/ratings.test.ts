import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildCsr, findDuplicate, IdMap, Ratings } from "../../src/data/ratings.js";

describe("buildCsr", () => {
  it("holds every entry once, rows sorted by column (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 14 })), {
          selector: ([r, c]) => `${r},${c}`,
          maxLength: 80,
        }),
        (pairs) => {
          const rows = Int32Array.from(pairs, (p) => p[0]);
          const cols = Int32Array.from(pairs, (p) => p[1]);
          const vals = Float32Array.from(pairs, (p) => p[0] * 100 + p[1]);
          const csr = buildCsr(rows, cols, vals, 10, 15);
          expect(csr.indptr[10]).toBe(pairs.length);
          for (let r = 0; r < 10; r++) {
            for (let k = csr.indptr[r]; k < csr.indptr[r + 1]; k++) {
              expect(csr.values[k]).toBe(r * 100 + csr.indices[k]);
              if (k > csr.indptr[r]) expect(csr.indices[k]).toBeGreaterThan(csr.indices[k - 1]);
            }
          }
          expect(findDuplicate(csr)).toBeNull();
        },
      ),
    );
  });

  it("finds a duplicate pair", () => {
    const csr = buildCsr(Int32Array.of(1, 0, 1), Int32Array.of(2, 2, 2), Float32Array.of(1, 2, 3), 2, 3);
    expect(findDuplicate(csr)).toEqual({ row: 1, col: 2 });
  });
});

describe("IdMap and Ratings", () => {
  it("maps raw ids to dense indices in id order and back", () => {
    const map = IdMap.of(Int32Array.of(50, 7, 50, 300), Int32Array.of(7, 1));
    expect([...map.ids]).toEqual([1, 7, 50, 300]);
    expect(map.indexOf(50)).toBe(2);
    expect(map.indexOf(8)).toBe(-1);
    expect(map.indexOf(10_000)).toBe(-1);
    expect(map.indexOf(-3)).toBe(-1);
  });

  it("selects ratings in the same index space and builds both CSR views", () => {
    const r = new Ratings(Int32Array.of(0, 1, 1), Int32Array.of(2, 0, 1), Float32Array.of(5, 3, 4), 2, 3);
    const part = r.select([2, 0]);
    expect([...part.values]).toEqual([4, 5]);
    expect(part.nItems).toBe(3);
    expect([...r.byItem().indptr]).toEqual([0, 1, 2, 3]);
    expect(r.mean()).toBe(4);
  });
});
