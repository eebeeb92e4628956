import type { Backend } from "./types.js";

/** Rows and columns swept per block: the rank of each multiply-accumulate. */
const BLOCK = 64;

/**
 * Inverts the symmetric positive definite n x n matrix `a` (row-major, in the backend's memory) in place,
 * by blocked Gauss-Jordan elimination without pivoting (the sweep operator, which is stable for SPD
 * matrices: every pivot block is a Schur complement, itself SPD), on the lower triangle only.
 *
 * Sweeping block K (64 rows) maps D = A_KK to D^-1, A_KJ to D^-1 A_KJ, A_IK to -A_IK D^-1 and A_IJ to
 * A_IJ - A_IK D^-1 A_KJ. Throughout, A_ji = s_i s_j A_ij with s = -1 for swept indices and +1 for the others,
 * so the lower triangle holds everything: the column panel C_I = A_IK (read as s_I A_KI^T above the
 * diagonal) gives the row panel R = D^-1 A_K,: = D^-1 (s C)^T, and the update of the lower triangle,
 * A_IJ -= C_I R_J for j <= i, is one multiply-accumulate per 64 rows (the O(n^3) part, n^3 flops in all,
 * split across the backend's threads). At the end every index is swept, A^-1 is symmetric, and the upper
 * triangle is copied from the lower. The pivot blocks are inverted by Cholesky in float64. Throws when a
 * pivot block is not positive definite (a ridge too small for the data, or a matrix that is not SPD).
 */
export function invertSpd(backend: Backend, a: Float32Array, n: number): void {
  const { kernels } = backend;
  const { panel, column, pivot, scaled, signedT } = scratchFor(backend, n);
  const sign = new Int8Array(n).fill(1);
  for (let k0 = 0; k0 < n; k0 += BLOCK) {
    const b = Math.min(BLOCK, n - k0);
    const after = k0 + b;
    invertBlock(pivot, a, n, k0, b);
    // C (n x b) and (s C)^T (b x n), zero in the block's own rows; each loop reads rows of `a` in order.
    for (let r = 0; r < b; r++) {
      const row = (k0 + r) * n;
      for (let i = 0; i < k0; i++) {
        const c = sign[i] * a[row + i];
        column[i * b + r] = c;
        signedT[r * n + i] = sign[i] * c;
      }
      for (let i = k0; i < after; i++) {
        column[i * b + r] = 0;
        signedT[r * n + i] = 0;
      }
    }
    for (let i = after; i < n; i++) {
      for (let r = 0; r < b; r++) {
        const c = a[i * n + k0 + r];
        column[i * b + r] = c;
        signedT[r * n + i] = sign[i] * c;
      }
    }
    kernels.fill(panel, b * n, 0);
    kernels.gemmAccumulate(panel, pivot, signedT, b, b, n, n, b, n, 1);
    for (let r0 = 0; r0 < n; r0 += BLOCK) {
      if (r0 === k0) continue;
      const r1 = Math.min(n, r0 + BLOCK);
      // Columns up to the end of this row block: the lower triangle and a little of the upper, never read.
      kernels.gemmAccumulate(a.subarray(r0 * n), column.subarray(r0 * b), panel, r1 - r0, b, r1, n, b, n, -1);
    }
    // The swept block's column below it: -C D^-1; its row left of it: R (= s_I D^-1 C_I^T).
    if (after < n) {
      const below = scaled.subarray(0, (n - after) * b);
      kernels.fill(below, below.length, 0);
      kernels.gemmAccumulate(below, column.subarray(after * b), pivot, n - after, b, b, b, b, b, -1);
      for (let i = after; i < n; i++) a.set(below.subarray((i - after) * b, (i - after + 1) * b), i * n + k0);
    }
    for (let r = 0; r < b; r++) {
      a.set(panel.subarray(r * n, r * n + k0), (k0 + r) * n);
      a.set(pivot.subarray(r * b, (r + 1) * b), (k0 + r) * n + k0);
    }
    sign.fill(-1, k0, after);
  }
  // The upper triangle from the lower, in tiles so that both sides stay in cache.
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    for (let j0 = i0; j0 < n; j0 += BLOCK) {
      for (let i = i0; i < Math.min(n, i0 + BLOCK); i++) {
        for (let j = Math.max(j0, i + 1); j < Math.min(n, j0 + BLOCK); j++) a[i * n + j] = a[j * n + i];
      }
    }
  }
}

const scratch = new WeakMap<
  Backend,
  { n: number; buffers: Record<"panel" | "column" | "pivot" | "scaled" | "signedT", Float32Array> }
>();

/** The panels invertSpd works in, kept per backend (whose memory is never freed) for the largest n so far. */
function scratchFor(backend: Backend, n: number) {
  const kept = scratch.get(backend);
  if (kept && kept.n >= n) return kept.buffers;
  const f = (size: number) => backend.arena.f32(size);
  const buffers = {
    signedT: f(BLOCK * n),
    panel: f(BLOCK * n),
    column: f(n * BLOCK),
    pivot: f(BLOCK * BLOCK),
    scaled: f(n * BLOCK),
  };
  scratch.set(backend, { n, buffers });
  return buffers;
}

/** out (b x b) = the inverse of the SPD block a[k0..k0+b][k0..k0+b], by Cholesky in float64. */
function invertBlock(out: Float32Array, a: Float32Array, n: number, k0: number, b: number): void {
  const l = new Float64Array(b * b);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[(k0 + i) * n + k0 + j];
      for (let t = 0; t < j; t++) s -= l[i * b + t] * l[j * b + t];
      if (i === j) {
        if (!(s > 0)) {
          throw new Error(
            `the matrix is not positive definite (pivot ${k0 + i} is ${s}); raise the ridge penalty`,
          );
        }
        l[i * b + i] = Math.sqrt(s);
      } else l[i * b + j] = s / l[j * b + j];
    }
  }
  // inv(A) = inv(L)^T inv(L): first inv(L) (lower), then the product.
  const w = new Float64Array(b * b);
  for (let c = 0; c < b; c++) {
    w[c * b + c] = 1 / l[c * b + c];
    for (let i = c + 1; i < b; i++) {
      let s = 0;
      for (let t = c; t < i; t++) s -= l[i * b + t] * w[t * b + c];
      w[i * b + c] = s / l[i * b + i];
    }
  }
  for (let i = 0; i < b; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = i; t < b; t++) s += w[t * b + i] * w[t * b + j];
      out[i * b + j] = s;
      out[j * b + i] = s;
    }
  }
}
