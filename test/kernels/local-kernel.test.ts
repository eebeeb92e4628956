import { describe, expect, it } from "vitest";
import { Rng } from "../../src/data/random.js";
import { createBackend } from "../../src/kernels/index.js";
import * as ref from "../../src/kernels/reference.js";
import { setSplitMin } from "../../src/kernels/wasm.js";
import {
  convolutionPattern,
  convolveRatings,
  convolveRatingsBackward,
} from "../../src/model/global-kernel.js";
import { numericGradient, randomArray, randomCsr, relativeError } from "../helpers.js";

// GLocal-K's kernels: the local kernel layer and the global convolution, checked against finite
// differences in float64, and the WebAssembly builds against their plain-TypeScript twins.

/** Embeddings spread so that some kernel entries are 0 (beyond distance 1) and some are not. */
function embeddings(rows: number, cols: number, d: number, rng: Rng) {
  return { a: randomArray(rows * d, rng, 0.45), bT: randomArray(d * cols, rng, 0.45) };
}

/** The local layer's loss: sum(c * w * k) + penalties, with k from a and bT. */
function localLoss(
  c: Float64Array,
  w: Float64Array,
  a: Float64Array,
  bT: Float64Array,
  dims: [number, number, number],
  lambdas: [number, number],
): number {
  const [rows, cols, d] = dims;
  const [eff, k] = [new Float64Array(rows * cols), new Float64Array(rows * cols)];
  ref.localKernel(eff, k, w, a, bT, rows, cols, d);
  let s = 0;
  for (let i = 0; i < eff.length; i++)
    s += c[i] * eff[i] + 0.5 * lambdas[0] * w[i] * w[i] + 0.5 * lambdas[1] * k[i] * k[i];
  return s;
}

describe("the local kernel layer", () => {
  const rng = new Rng(5);
  const [rows, cols, d] = [7, 11, 3];
  const lambdas: [number, number] = [0.7, 0.3];

  it("is max(0, 1 - |a_r - b_c|^2) times the weights, and counts its non-zero entries", () => {
    const w = randomArray(rows * cols, rng);
    const { a, bT } = embeddings(rows, cols, d, rng);
    const [eff, k] = [new Float64Array(rows * cols), new Float64Array(rows * cols)];
    const count = ref.localKernel(eff, k, w, a, bT, rows, cols, d);
    let expected = 0;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        let dist = 0;
        for (let t = 0; t < d; t++) dist += (a[r * d + t] - bT[t * cols + c]) ** 2;
        expect(k[r * cols + c]).toBeCloseTo(Math.max(0, 1 - dist), 12);
        expect(eff[r * cols + c]).toBeCloseTo(w[r * cols + c] * k[r * cols + c], 12);
        if (dist < 1) expected++;
      }
    expect(count).toBe(expected);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(rows * cols);
  });

  it("has a backward pass that agrees with finite differences (float64)", () => {
    const w = randomArray(rows * cols, rng);
    const { a, bT } = embeddings(rows, cols, d, rng);
    const c = randomArray(rows * cols, rng);
    const loss = () => localLoss(c, w, a, bT, [rows, cols, d], lambdas);
    const [eff, k] = [new Float64Array(rows * cols), new Float64Array(rows * cols)];
    ref.localKernel(eff, k, w, a, bT, rows, cols, d);
    const [gw, ga, gbT] = [
      new Float64Array(rows * cols),
      new Float64Array(rows * d),
      new Float64Array(d * cols),
    ];
    const penalty = ref.localKernelBackward(gw, ga, gbT, c.slice(), w, k, a, bT, rows, cols, d, ...lambdas);
    let expectedPenalty = 0;
    for (let i = 0; i < w.length; i++)
      expectedPenalty += 0.5 * (lambdas[0] * w[i] ** 2 + lambdas[1] * k[i] ** 2);
    expect(penalty).toBeCloseTo(expectedPenalty, 10);
    for (const [analytic, x] of [
      [gw, w],
      [ga, a],
      [gbT, bT],
    ] as const) {
      expect(relativeError(analytic, numericGradient(x, loss))).toBeLessThan(1e-7);
    }
  });

  it.each([
    ["wasm-simd", 1],
    ["wasm", 1],
    ["wasm", 2],
  ] as const)("matches its twin on %s with %i thread(s), across SIMD tails", (choice, threads) => {
    const backend = createBackend(choice, threads);
    const previous = setSplitMin(1);
    try {
      const { kernels, arena } = backend;
      const [r2, c2, d2] = [13, 10, 5];
      const f32 = (src: ArrayLike<number>) => {
        const out = arena.f32(src.length);
        out.set(src);
        return out;
      };
      const w = randomArray(r2 * c2, rng);
      const { a, bT } = embeddings(r2, c2, d2, rng);
      const gEff = randomArray(r2 * c2, rng);
      const expected = {
        eff: new Float64Array(r2 * c2),
        k: new Float64Array(r2 * c2),
        gw: new Float64Array(r2 * c2),
        ga: new Float64Array(r2 * d2),
        gbT: new Float64Array(d2 * c2),
      };
      const count = ref.localKernel(expected.eff, expected.k, w, a, bT, r2, c2, d2);
      const penalty = ref.localKernelBackward(
        expected.gw,
        expected.ga,
        expected.gbT,
        gEff.slice(),
        w,
        expected.k,
        a,
        bT,
        r2,
        c2,
        d2,
        ...lambdas,
      );
      const got = {
        eff: arena.f32(r2 * c2),
        k: arena.f32(r2 * c2),
        gw: arena.f32(r2 * c2),
        ga: arena.f32(r2 * d2),
        gbT: arena.f32(d2 * c2),
      };
      const [wf, af, bf] = [f32(w), f32(a), f32(bT)];
      expect(kernels.localKernel(got.eff, got.k, wf, af, bf, r2, c2, d2)).toBe(count);
      const gotPenalty = kernels.localKernelBackward(
        got.gw,
        got.ga,
        got.gbT,
        f32(gEff),
        wf,
        got.k,
        af,
        bf,
        r2,
        c2,
        d2,
        ...lambdas,
      );
      expect(gotPenalty).toBeCloseTo(penalty, 4);
      for (const key of Object.keys(expected) as (keyof typeof expected)[])
        expect(relativeError(got[key], expected[key]), key).toBeLessThan(1e-5);
    } finally {
      setSplitMin(previous);
      backend.close();
    }
  });
});

describe("the global convolution of the ratings", () => {
  const rng = new Rng(8);
  const ratings = randomCsr(9, 12, 0.15, 4);
  const kernel = randomArray(9, rng);

  it("is TensorFlow's SAME-padded 3x3 correlation with ReLU, on the 3x3 neighbourhood of the ratings", () => {
    const dense = (r: number, c: number) => {
      if (r < 0 || r >= 9 || c < 0 || c >= 12) return 0;
      for (let k = ratings.indptr[r]; k < ratings.indptr[r + 1]; k++)
        if (ratings.indices[k] === c) return ratings.values[k];
      return 0;
    };
    const out = convolutionPattern(ratings);
    convolveRatings(out, ratings, kernel);
    let nonzero = 0;
    for (let r = 0; r < 9; r++)
      for (let c = 0; c < 12; c++) {
        let s = 0;
        let reached = false;
        for (let a = 0; a < 3; a++)
          for (let b = 0; b < 3; b++) {
            const v = dense(r + a - 1, c + b - 1);
            s += kernel[3 * a + b] * v;
            if (v !== 0) reached = true;
          }
        const cols = Array.from(out.indices.subarray(out.indptr[r], out.indptr[r + 1]));
        const q = cols.indexOf(c);
        expect(q >= 0, `(${r}, ${c}) in the pattern`).toBe(reached);
        if (q >= 0) expect(out.values[out.indptr[r] + q]).toBeCloseTo(Math.max(0, s), 5);
        if (s > 0) nonzero++;
      }
    expect(nonzero).toBeGreaterThan(0);
  });

  it("has a kernel gradient that agrees with finite differences", () => {
    const out = convolutionPattern(ratings);
    const c = randomArray(out.indices.length, rng);
    const taps = Float64Array.from(kernel);
    const loss = () => {
      convolveRatings(out, ratings, taps);
      let s = 0;
      for (let q = 0; q < c.length; q++) s += c[q] * out.values[q];
      return s;
    };
    loss();
    const analytic = new Float64Array(9);
    convolveRatingsBackward(analytic, out, c, ratings);
    // out's values are float32: a larger step keeps the rounding out of the differences.
    expect(relativeError(analytic, numericGradient(taps, loss, 1e-3))).toBeLessThan(1e-4);
  });
});
