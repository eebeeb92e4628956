import type { Csr } from "../data/ratings.js";
import type { Arena, ColumnBatch } from "./types.js";

/**
 * Regroups the entries of a mini-batch's rows by column (see ColumnBatch), in the kernels' memory. Keeps
 * one counter per column between calls and resets only the ones a batch touched, so each call costs
 * O(entries) whatever the number of columns.
 */
export class ColumnBatcher {
  private readonly count: Int32Array;
  private batch: ColumnBatch;
  private capacity = 0;

  constructor(
    private readonly arena: Arena,
    nCols: number,
  ) {
    this.count = new Int32Array(nCols).fill(-1);
    this.batch = this.allocate(0);
  }

  private allocate(nnz: number): ColumnBatch {
    this.capacity = nnz;
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

  /** The entries of `rows` of `csr` grouped by column, columns in first-seen order, rows ascending within. */
  build(csr: Csr, rows: ArrayLike<number>): ColumnBatch {
    const { indptr, indices } = csr;
    let nnz = 0;
    for (let b = 0; b < rows.length; b++) nnz += indptr[rows[b] + 1] - indptr[rows[b]];
    if (nnz > this.capacity) this.batch = this.allocate(Math.max(nnz, 2 * this.capacity));
    const c = this.batch;
    const { count } = this;
    // Pass 1: give each column seen a slot u and count its entries.
    let nUnique = 0;
    for (let b = 0; b < rows.length; b++) {
      for (let k = indptr[rows[b]]; k < indptr[rows[b] + 1]; k++) {
        const j = indices[k];
        if (count[j] < 0) {
          count[j] = 0;
          c.cols[nUnique++] = j;
        }
        count[j]++;
      }
    }
    // Slot starts; count[j] becomes the next free position of column j.
    let at = 0;
    for (let u = 0; u < nUnique; u++) {
      const j = c.cols[u];
      c.start[u] = at;
      at += count[j];
      count[j] = c.start[u];
    }
    c.start[nUnique] = at;
    // Pass 2: place every entry.
    let q = 0;
    for (let b = 0; b < rows.length; b++) {
      for (let k = indptr[rows[b]]; k < indptr[rows[b] + 1]; k++, q++) {
        const e = count[indices[k]]++;
        c.rowOf[e] = b;
        c.qOf[e] = q;
        c.values[e] = csr.values[k];
      }
    }
    for (let u = 0; u < nUnique; u++) count[c.cols[u]] = -1;
    c.nUnique = nUnique;
    return c;
  }
}
