import type { Csr } from "../data/ratings.js";

/** Side of GLocal-K's global convolution kernel: 3 x 3, as the paper's. */
export const GLOBAL_KERNEL_SIZE = 3;
const REACH = (GLOBAL_KERNEL_SIZE - 1) / 2;

/**
 * Every (row, column) within one row and one column of an entry of `csr`: where a 3 x 3 convolution of
 * the matrix can be non-zero. Values are zero; columns ascend within each row.
 */
export function convolutionPattern(csr: Csr): Csr {
  const { nRows, nCols } = csr;
  const seen = new Int32Array(nCols).fill(-1);
  const indptr = new Int32Array(nRows + 1);
  const indices: number[] = [];
  const row: number[] = [];
  for (let r = 0; r < nRows; r++) {
    row.length = 0;
    for (let s = Math.max(0, r - REACH); s <= Math.min(nRows - 1, r + REACH); s++) {
      for (let k = csr.indptr[s]; k < csr.indptr[s + 1]; k++) {
        const c0 = csr.indices[k];
        for (let c = Math.max(0, c0 - REACH); c <= Math.min(nCols - 1, c0 + REACH); c++) {
          if (seen[c] === r) continue;
          seen[c] = r;
          row.push(c);
        }
      }
    }
    row.sort((a, b) => a - b);
    for (const c of row) indices.push(c);
    indptr[r + 1] = indices.length;
  }
  return {
    nRows,
    nCols,
    indptr,
    indices: Int32Array.from(indices),
    values: new Float32Array(indices.length),
  };
}

/**
 * GLocal-K's global kernel applied to the ratings: out = max(0, conv(ratings, kernel)) at the entries of
 * `out` (a convolutionPattern of `ratings`), where conv is TensorFlow's conv2d with SAME padding:
 * conv[r][c] = sum over a, b < 3 of kernel[3a + b] * ratings[r + a - 1][c + b - 1], outside the matrix 0.
 */
export function convolveRatings(out: Csr, ratings: Csr, kernel: ArrayLike<number>): void {
  const acc = new Float64Array(ratings.nCols);
  for (let r = 0; r < out.nRows; r++) {
    forNeighbours(ratings, r, (c, value, tap) => {
      acc[c] += kernel[tap] * value;
    });
    for (let q = out.indptr[r]; q < out.indptr[r + 1]; q++) {
      const c = out.indices[q];
      out.values[q] = Math.max(0, acc[c]);
      acc[c] = 0;
    }
  }
}

/**
 * The gradient of convolveRatings with respect to its kernel: dKernel[3a + b] = sum over the entries q
 * of `out` where out is above 0 of dOut[q] * ratings[r + a - 1][c + b - 1] (max(0, .) passes nothing where
 * it is flat). dOut is in `out`'s entry order.
 */
export function convolveRatingsBackward(
  dKernel: Float64Array,
  out: Csr,
  dOut: ArrayLike<number>,
  ratings: Csr,
): void {
  dKernel.fill(0);
  const grad = new Float64Array(ratings.nCols);
  for (let r = 0; r < out.nRows; r++) {
    for (let q = out.indptr[r]; q < out.indptr[r + 1]; q++)
      if (out.values[q] > 0) grad[out.indices[q]] = dOut[q];
    forNeighbours(ratings, r, (c, value, tap) => {
      dKernel[tap] += grad[c] * value;
    });
    for (let q = out.indptr[r]; q < out.indptr[r + 1]; q++) grad[out.indices[q]] = 0;
  }
}

/**
 * Calls `visit(c, value, tap)` for every rating that reaches output (r, c) through kernel tap `tap`:
 * rating (r + a - 1, c0) reaches column c = c0 - b + 1 through tap 3a + b.
 */
function forNeighbours(
  ratings: Csr,
  r: number,
  visit: (c: number, value: number, tap: number) => void,
): void {
  const size = GLOBAL_KERNEL_SIZE;
  for (let a = 0; a < size; a++) {
    const s = r + a - REACH;
    if (s < 0 || s >= ratings.nRows) continue;
    for (let k = ratings.indptr[s]; k < ratings.indptr[s + 1]; k++) {
      const [c0, value] = [ratings.indices[k], ratings.values[k]];
      for (let b = 0; b < size; b++) {
        const c = c0 - b + REACH;
        if (c >= 0 && c < ratings.nCols) visit(c, value, a * size + b);
      }
    }
  }
}
