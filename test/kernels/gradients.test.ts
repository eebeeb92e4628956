import { describe, expect, it } from "vitest";
import { Rng } from "../../src/data/random.js";
import { ACTIVATIONS, type Activation, type FloatArray, type RowBatch } from "../../src/kernels/index.js";
import * as ref from "../../src/kernels/reference.js";
import { numericGradient, randomArray, randomCsr } from "../helpers.js";

// Finite-difference checks in float64 of every backward kernel: for a random linear functional
// L = sum(c * forward(x)), the analytic gradient from the backward kernel must match (L(x+e) - L(x-e)) / 2e.
function expectClose(analytic: ArrayLike<number>, numeric: ArrayLike<number>): void {
  let maxRef = 0;
  for (let i = 0; i < numeric.length; i++) maxRef = Math.max(maxRef, Math.abs(numeric[i]));
  for (let i = 0; i < numeric.length; i++) {
    expect(Math.abs(analytic[i] - numeric[i])).toBeLessThan(1e-7 * Math.max(1, maxRef));
  }
}

function dot(a: FloatArray, b: FloatArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe("backward kernels agree with finite differences (float64)", () => {
  const rng = new Rng(11);
  const csr = randomCsr(6, 9, 0.4, 5);
  const batch: RowBatch = { ...csr, rows: Int32Array.from([4, 1, 2]), nRows: 3 };
  const nnz = [4, 1, 2].reduce((n, r) => n + csr.indptr[r + 1] - csr.indptr[r], 0);
  const h = 5;

  it("sparseAffineBackward", () => {
    const w = randomArray(9 * h, rng);
    const bias = randomArray(h, rng);
    const c = randomArray(3 * h, rng);
    const out = new Float64Array(3 * h);
    const loss = () => {
      ref.sparseAffine(out, batch, w, bias, h);
      return dot(out, c);
    };
    const [dw, db] = [new Float64Array(9 * h), new Float64Array(h)];
    ref.sparseAffineBackward(dw, db, batch, c, h);
    expectClose(dw, numericGradient(w, loss));
    expectClose(db, numericGradient(bias, loss));
  });

  it("sparseOutputBackward with squaredError", () => {
    const hidden = randomArray(3 * h, rng);
    const v = randomArray(9 * h, rng);
    const bias = randomArray(9, rng);
    const pred = new Float64Array(nnz);
    const dPred = new Float64Array(nnz);
    const scale = 0.3;
    const loss = () => {
      ref.sparseOutput(pred, batch, hidden, v, bias, h);
      return scale * ref.squaredError(dPred, pred, batch, scale);
    };
    loss();
    const [dv, db, dh] = [new Float64Array(9 * h), new Float64Array(9), new Float64Array(3 * h)];
    ref.sparseOutputBackward(dv, db, dh, batch, dPred, hidden, v, h);
    expectClose(dv, numericGradient(v, loss));
    expectClose(db, numericGradient(bias, loss));
    expectClose(dh, numericGradient(hidden, loss));
  });

  it("denseAffineBackward", () => {
    const [n, nIn, nOut] = [3, 4, 6];
    const inp = randomArray(n * nIn, rng);
    const w = randomArray(nOut * nIn, rng);
    const bias = randomArray(nOut, rng);
    const c = randomArray(n * nOut, rng);
    const out = new Float64Array(n * nOut);
    const loss = () => {
      ref.denseAffine(out, inp, w, bias, n, nIn, nOut);
      return dot(out, c);
    };
    const [dw, db, dInp] = [new Float64Array(nOut * nIn), new Float64Array(nOut), new Float64Array(n * nIn)];
    ref.denseAffineBackward(dw, db, dInp, c, inp, w, n, nIn, nOut);
    expectClose(dw, numericGradient(w, loss));
    expectClose(db, numericGradient(bias, loss));
    expectClose(dInp, numericGradient(inp, loss));
  });

  it.each(Object.keys(ACTIVATIONS) as Activation[])("activateBackward (%s)", (kind) => {
    const x = randomArray(8, rng, 3);
    const c = randomArray(8, rng);
    const y = new Float64Array(8);
    const loss = () => {
      y.set(x);
      ref.activate(y, 8, kind);
      return dot(y, c);
    };
    loss();
    const dx = new Float64Array(8);
    ref.activateBackward(dx, c, y, 8, kind);
    expectClose(dx, numericGradient(x, loss));
  });
});
