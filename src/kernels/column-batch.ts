import type { Csr } from "../data/ratings.js";
import type { Arena, ColumnBatch } from "./types.js";

/** True when `a` and `b` are one set of entries (the same indptr and indices), perhaps with other values. */
export function sharesEntries(a: Csr, b: Csr): boolean {
  return a.indptr === b.indptr && a.indices === b.indices;
}

/**
 * Regroups the entries of a mini-batch's rows by column (see ColumnBatch), in the kernels' memory. Keeps
 * one counter per column between calls and resets only the ones a batch touched, so each call costs
 * O(entries) whatever the number of columns. Each build reuses one buffer unless asked to keep its result.
 */
export class ColumnBatcher {
  private readonly count: Int32Array;
  private batch: ColumnBatch;
  /** The reused values of a pair's second batch (see buildPair). */
  private pairValues: Float32Array;
  private capacity = 0;

  constructor(
    private readonly arena: Arena,
    nCols: number,
  ) {
    this.count = new Int32Array(nCols).fill(-1);
    this.batch = this.allocate(0);
    this.pairValues = arena.f32(0);
  }

  private allocate(nnz: number): ColumnBatch {
    const unique = Math.min(nnz, this.count.length);
    const { arena } = this;
    return {
      nUnique: 0,
      cols: arena.i32(unique),
      start: arena.i32(unique + 1),
      rowOf: arena.i32(nnz),
      qOf: arena.i32(nnz),
      values: arena.f32(nnz),
    };
  }

  /**
   * The entries of `rows` of `csr` grouped by column, columns ascending, rows ascending within. The result
   * lives until the next build, or for good with `keep` (for batches that are used again and again).
   */
  build(csr: Csr, rows: ArrayLike<number>, keep = false): ColumnBatch {
    return this.group(csr, rows, keep).batch;
  }

  /**
   * `build` for two CSRs with the same entries and other values (the targets, and what the encoder reads):
   * one grouping, two batches that differ only in `values`.
   */
  buildPair(target: Csr, input: Csr, rows: ArrayLike<number>, keep = false): [ColumnBatch, ColumnBatch] {
    if (!sharesEntries(target, input))
      throw new Error("buildPair needs two CSRs that share their indptr and indices");
    const { batch, pair } = this.group(target, rows, keep, input.values);
    return [batch, pair!];
  }

  private group(
    csr: Csr,
    rows: ArrayLike<number>,
    keep: boolean,
    pairSource?: Float32Array,
  ): { batch: ColumnBatch; pair?: ColumnBatch } {
    const { indptr, indices, values } = csr;
    let nnz = 0;
    for (let b = 0; b < rows.length; b++) nnz += indptr[rows[b] + 1] - indptr[rows[b]];
    if (!keep && nnz > this.capacity) {
      this.capacity = Math.max(nnz, 2 * this.capacity);
      this.batch = this.allocate(this.capacity);
    }
    if (!keep && pairSource && this.pairValues.length < this.capacity)
      this.pairValues = this.arena.f32(this.capacity);
    const batch = keep ? this.allocate(nnz) : this.batch;
    const pair = pairSource && { ...batch, values: keep ? this.arena.f32(nnz) : this.pairValues };
    const { count } = this;
    const { cols, start, rowOf, qOf } = batch;
    // Pass 1: give each column seen a slot and count its entries.
    let nUnique = 0;
    for (let b = 0; b < rows.length; b++) {
      const end = indptr[rows[b] + 1];
      for (let k = indptr[rows[b]]; k < end; k++) {
        const j = indices[k];
        if (count[j] < 0) {
          count[j] = 1;
          cols[nUnique++] = j;
        } else count[j]++;
      }
    }
    // Ascending columns walk the weight rows in memory order. When a batch touches many of the columns,
    // a scan of the counters is cheaper than sorting.
    if (nUnique * 16 >= count.length) {
      let u = 0;
      for (let j = 0; j < count.length; j++) if (count[j] >= 0) cols[u++] = j;
    } else cols.subarray(0, nUnique).sort();
    // Slot starts; count[j] becomes the next free position of column j.
    let at = 0;
    for (let u = 0; u < nUnique; u++) {
      const j = cols[u];
      start[u] = at;
      const n = count[j];
      count[j] = at;
      at += n;
    }
    start[nUnique] = at;
    // Pass 2: place every entry.
    const placed = batch.values;
    let q = 0;
    for (let b = 0; b < rows.length; b++) {
      const end = indptr[rows[b] + 1];
      for (let k = indptr[rows[b]]; k < end; k++, q++) {
        const e = count[indices[k]]++;
        rowOf[e] = b;
        qOf[e] = q;
        placed[e] = values[k];
        if (pair) pair.values[e] = pairSource![k];
      }
    }
    for (let u = 0; u < nUnique; u++) count[cols[u]] = -1;
    batch.nUnique = nUnique;
    if (pair) pair.nUnique = nUnique;
    return { batch, pair };
  }
}
