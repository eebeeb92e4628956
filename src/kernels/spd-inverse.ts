import type { Backend } from "./types.js";

/** Rows and columns swept per block: the rank of each multiply-accumulate. */
const BLOCK = 64;

/**
 * Inverts the symmetric positive definite n x n matrix `a` (row-major, in the backend's memory) in place,
 * by blocked Gauss-Jordan elimination without pivoting (the sweep operator, which is stable for SPD
 * matrices: every pivot block is a Schur complement, itself SPD). For each block K of 64 rows: the pivot
 * block D = A[K,K] is inverted in float64; R = D^-1 A[K,:]; every other row i takes A[i,:] -= A[i,K] R (one
 * multiply-accumulate, the O(n^3) part, split across the backend's threads); A[i,K] = -A[i,K] D^-1;
 * A[K,:] = R and A[K,K] = D^-1. Throws when a pivot block is not positive definite (a ridge too small for
 * the data, or a matrix that is not SPD).
 */
export function invertSpd(backend: Backend, a: Float32Array, n: number): void {
  const { kernels } = backend;
  const { panel, column, pivot, scaled } = scratchFor(backend, n);
  for (let k0 = 0; k0 < n; k0 += BLOCK) {
    const b = Math.min(BLOCK, n - k0);
    invertBlock(pivot, a, n, k0, b);
    for (let i = 0; i < n; i++) column.set(a.subarray(i * n + k0, i * n + k0 + b), i * b);
    kernels.fill(panel, b * n, 0);
    kernels.gemmAccumulate(panel, pivot, a.subarray(k0 * n), b, b, n, n, b, n, 1);
    kernels.gemmAccumulate(a, column, panel, k0, b, n, n, b, n, -1);
    const after = k0 + b;
    if (after < n) {
      kernels.gemmAccumulate(
        a.subarray(after * n),
        column.subarray(after * b),
        panel,
        n - after,
        b,
        n,
        n,
        b,
        n,
        -1,
      );
    }
    kernels.fill(scaled, n * b, 0);
    kernels.gemmAccumulate(scaled, column, pivot, n, b, b, b, b, b, -1);
    for (let i = 0; i < n; i++) {
      if (i >= k0 && i < after) continue;
      a.set(scaled.subarray(i * b, (i + 1) * b), i * n + k0);
    }
    a.set(panel.subarray(0, b * n), k0 * n);
    for (let r = 0; r < b; r++) a.set(pivot.subarray(r * b, (r + 1) * b), (k0 + r) * n + k0);
  }
}

const scratch = new WeakMap<
  Backend,
  { n: number; buffers: Record<"panel" | "column" | "pivot" | "scaled", Float32Array> }
>();

/** The panels invertSpd works in, kept per backend (whose memory is never freed) for the largest n so far. */
function scratchFor(backend: Backend, n: number) {
  const kept = scratch.get(backend);
  if (kept && kept.n >= n) return kept.buffers;
  const f = (size: number) => backend.arena.f32(size);
  const buffers = {
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
