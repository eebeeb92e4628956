import { describe, expect, it } from "vitest";
import type { Csr } from "../../src/data/ratings.js";
import { ColumnBatcher } from "../../src/kernels/column-batch.js";
import { createBackend } from "../../src/kernels/index.js";
import type { ColumnBatch } from "../../src/kernels/types.js";
import { randomCsr } from "../helpers.js";

/** The batch's entries as "column row position value" lines, in the batch's own order. */
function entries(c: ColumnBatch): string[] {
  const out: string[] = [];
  for (let u = 0; u < c.nUnique; u++)
    for (let e = c.start[u]; e < c.start[u + 1]; e++)
      out.push(`${c.cols[u]} ${c.rowOf[e]} ${c.qOf[e]} ${c.values[e]}`);
  return out;
}

/** What a column batch of `rows` must hold: every entry, by column ascending, then batch row ascending. */
function expected(csr: Csr, rows: number[]): string[] {
  const all: [number, number, number, number][] = [];
  let q = 0;
  rows.forEach((r, b) => {
    for (let k = csr.indptr[r]; k < csr.indptr[r + 1]; k++) all.push([csr.indices[k], b, q++, csr.values[k]]);
  });
  all.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  return all.map((x) => x.join(" "));
}

describe("ColumnBatcher", () => {
  const { arena } = createBackend("reference");
  const csr = randomCsr(120, 2000, 0.02, 5);

  it("groups a batch's entries by column, ascending, whether it touches few columns or most", () => {
    const batcher = new ColumnBatcher(arena, csr.nCols);
    // 3 rows touch ~120 of 2000 columns (sorted); 100 rows touch most of them (scanned).
    for (const rows of [[7, 2, 40], Array.from({ length: 100 }, (_, i) => (i * 7) % 120)]) {
      const batch = batcher.build(csr, rows);
      expect(entries(batch)).toEqual(expected(csr, rows));
      expect(batch.start[batch.nUnique]).toBe(expected(csr, rows).length);
    }
  });

  it("pairs two CSRs of the same entries: one grouping, each with its own values", () => {
    const batcher = new ColumnBatcher(arena, csr.nCols);
    const offset = { ...csr, values: csr.values.map((v) => v + 15) };
    for (const rows of [[7, 2, 40], Array.from({ length: 100 }, (_, i) => (i * 7) % 120)]) {
      const [target, input] = batcher.buildPair(csr, offset, rows);
      expect(entries(target)).toEqual(expected(csr, rows));
      expect(entries(input)).toEqual(expected(offset, rows));
    }
    expect(() => batcher.buildPair(csr, randomCsr(120, 2000, 0.02, 6), [1])).toThrow(/share their indptr/);
  });

  it("keeps a batch built with keep through later builds", () => {
    const batcher = new ColumnBatcher(arena, csr.nCols);
    const kept = batcher.build(csr, [1, 2, 3], true);
    const before = entries(kept);
    batcher.build(csr, [50, 60, 70, 80]);
    batcher.build(csr, [4, 5]);
    expect(entries(kept)).toEqual(before);
    expect(before).toEqual(expected(csr, [1, 2, 3]));
  });
});
