import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/data/random.js";
import type { Csr } from "../src/data/ratings.js";
import { buildCsr } from "../src/data/ratings.js";
import type { Backend } from "../src/kernels/index.js";
import * as reference from "../src/kernels/reference.js";

/** The reference kernels on Float64Array: a backend for finite-difference checks of whole networks. */
export const float64Backend: Backend = {
  kernels: { name: "reference-f64", ...reference } as unknown as Backend["kernels"],
  arena: {
    f32: (n) => new Float64Array(n) as unknown as Float32Array,
    i32: (n) => new Int32Array(n),
  },
  threads: 1,
  close() {},
};

/** The folder with MovieLens data for real-data tests ($MOVIELENS_DIR), or undefined (with a warning). */
export function movielensDir(): string | undefined {
  const dir = process.env.MOVIELENS_DIR;
  if (!dir) console.warn("MOVIELENS_DIR is not set: the tests on the real MovieLens files are skipped");
  return dir;
}

/** A temporary folder, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "aerec-test-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A random sparse matrix with `nRows` x `nCols` and roughly `density` filled, values in 1..5. */
export function randomCsr(nRows: number, nCols: number, density: number, seed: number): Csr {
  const rng = new Rng(seed);
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      if (rng.float() < density) {
        rows.push(r);
        cols.push(c);
        vals.push(1 + rng.int(5));
      }
    }
  }
  return buildCsr(Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals), nRows, nCols);
}

/** Uniform random floats in [-scale, scale). */
export function randomArray(n: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => (2 * rng.float() - 1) * scale);
}

/** Largest |a - b| relative to the largest |b|. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < b.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

/** Central finite differences of `loss` with respect to every entry of `x` (restored afterwards). */
export function numericGradient(
  x: { length: number; [i: number]: number },
  loss: () => number,
  eps = 1e-6,
): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + eps;
    const up = loss();
    x[i] = keep - eps;
    const down = loss();
    x[i] = keep;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}
