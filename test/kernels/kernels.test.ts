import { describe, expect, it } from "vitest";
import { Rng } from "../../src/data/random.js";
import { ColumnBatcher } from "../../src/kernels/column-batch.js";
import {
  ACTIVATIONS,
  type Activation,
  createBackend,
  profiledBackend,
  type RowBatch,
  timed,
} from "../../src/kernels/index.js";
import * as ref from "../../src/kernels/reference.js";
import { numericGradient, randomArray, randomCsr, relativeError } from "../helpers.js";

// Every WebAssembly kernel against its plain-TypeScript twin, on shapes that exercise the SIMD remainder
// loops (sizes not divisible by 4).
// Both WebAssembly builds: plain SIMD, and relaxed SIMD with fused multiply-adds (one rounding instead of
// two, so within the same tolerances of the float64 twins).
describe.each(["wasm-simd", "wasm"] as const)("WebAssembly kernels (%s) match the reference", (choice) => {
  const wasm = createBackend(choice);
  const { kernels: k, arena } = wasm;
  const rng = new Rng(7);
  const f32 = (src: ArrayLike<number>) => {
    const a = arena.f32(src.length);
    a.set(src);
    return a;
  };
  const csr = randomCsr(9, 23, 0.3, 3);
  const indptr = arena.i32(csr.indptr.length);
  indptr.set(csr.indptr);
  const indices = arena.i32(csr.indices.length);
  indices.set(csr.indices);
  const values = f32(csr.values);
  const rows = arena.i32(4);
  rows.set([5, 0, 8, 3]);
  const batch: RowBatch = { rows, nRows: 4, indptr, indices, values };
  const nnz = [5, 0, 8, 3].reduce((n, r) => n + csr.indptr[r + 1] - csr.indptr[r], 0);
  const plainBatch: RowBatch = { ...csr, rows: Int32Array.from([5, 0, 8, 3]), nRows: 4 };
  const close = (a: ArrayLike<number>, b: ArrayLike<number>, what?: string) =>
    expect(relativeError(a, b), what).toBeLessThan(1e-5);

  for (const h of [1, 6, 13]) {
    it(`sparseAffine and its backward, h=${h}`, () => {
      const w = randomArray(23 * h, rng);
      const bias = randomArray(h, rng);
      const out = arena.f32(4 * h);
      k.sparseAffine(out, batch, f32(w), f32(bias), h);
      const expected = new Float64Array(4 * h);
      ref.sparseAffine(expected, plainBatch, w, bias, h);
      close(out, expected);

      const dOut = randomArray(4 * h, rng);
      const dw = arena.f32(23 * h);
      const db = arena.f32(h);
      k.sparseAffineBackward(dw, db, batch, f32(dOut), h);
      const edw = new Float64Array(23 * h);
      const edb = new Float64Array(h);
      ref.sparseAffineBackward(edw, edb, plainBatch, dOut, h);
      close(dw, edw);
      close(db, edb);
    });

    it(`sparseOutput, its backward and squaredError, h=${h}`, () => {
      const hidden = randomArray(4 * h, rng);
      const v = randomArray(23 * h, rng);
      const bias = randomArray(23, rng);
      const pred = arena.f32(nnz);
      k.sparseOutput(pred, batch, f32(hidden), f32(v), f32(bias), h);
      const epred = new Float64Array(nnz);
      ref.sparseOutput(epred, plainBatch, hidden, v, bias, h);
      close(pred, epred);

      const dPred = arena.f32(nnz);
      const sse = k.squaredError(dPred, pred, batch, 0.1);
      const edPred = new Float64Array(nnz);
      const esse = ref.squaredError(edPred, epred, plainBatch, 0.1);
      expect(Math.abs(sse - esse) / esse).toBeLessThan(1e-5);
      close(dPred, edPred);

      const dv = arena.f32(23 * h);
      const db = arena.f32(23);
      const dh = arena.f32(4 * h);
      k.sparseOutputBackward(dv, db, dh, batch, dPred, f32(hidden), f32(v), h);
      const [edv, edb, edh] = [new Float64Array(23 * h), new Float64Array(23), new Float64Array(4 * h)];
      ref.sparseOutputBackward(edv, edb, edh, plainBatch, edPred, hidden, v, h);
      close(dv, edv);
      close(db, edb);
      close(dh, edh);
    });
  }

  it("denseAffine, its backward, every activation and its backward, and the vector helpers", () => {
    const [n, nIn, nOut] = [3, 7, 5];
    const inp = randomArray(n * nIn, rng);
    const w = randomArray(nOut * nIn, rng);
    const bias = randomArray(nOut, rng);
    const out = arena.f32(n * nOut);
    k.denseAffine(out, f32(inp), f32(w), f32(bias), n, nIn, nOut);
    const eout = new Float64Array(n * nOut);
    ref.denseAffine(eout, inp, w, bias, n, nIn, nOut);
    close(out, eout);

    for (const kind of Object.keys(ACTIVATIONS) as Activation[]) {
      const [x, ex] = [f32(eout), eout.slice()];
      k.activate(x, n * nOut, kind);
      ref.activate(ex, n * nOut, kind);
      close(x, ex);
      const dy = randomArray(n * nOut, rng);
      const dx = arena.f32(n * nOut);
      k.activateBackward(dx, f32(dy), x, n * nOut, kind);
      const edx = new Float64Array(n * nOut);
      ref.activateBackward(edx, dy, ex, n * nOut, kind);
      close(dx, edx);
    }
    const [a, b] = [randomArray(13, rng), randomArray(13, rng)];
    const [y, ey] = [f32(a), a.slice()];
    k.addScaled(y, f32(b), 0.7, 13);
    ref.addScaled(ey, b, 0.7, 13);
    close(y, ey);
    k.multiply(y, f32(b), 13);
    ref.multiply(ey, b, 13);
    close(y, ey);
    expect(k.sumSquares(y, 13)).toBeCloseTo(ref.sumSquares(ey, 13), 4);

    const dOut = randomArray(n * nOut, rng);
    const [dw, db, dInp] = [arena.f32(nOut * nIn), arena.f32(nOut), arena.f32(n * nIn)];
    k.denseAffineBackward(dw, db, dInp, f32(dOut), f32(inp), f32(w), n, nIn, nOut);
    const [edw, edb, edInp] = [
      new Float64Array(nOut * nIn),
      new Float64Array(nOut),
      new Float64Array(n * nIn),
    ];
    ref.denseAffineBackward(edw, edb, edInp, dOut, inp, w, n, nIn, nOut);
    close(dw, edw);
    close(db, edb);
    close(dInp, edInp);
  });

  it("sigmoid over the whole float range, within 3 ulp where the result is a normal float", () => {
    // 1001 points (not a multiple of 4) from -100 to 100: saturation at both ends and the steep middle.
    const xs = Float32Array.from({ length: 1001 }, (_, i) => -100 + i / 5);
    const x = f32(xs);
    k.activate(x, xs.length, "sigmoid");
    const ulp = (v: number) => 2 ** (Math.floor(Math.log2(v)) - 23);
    for (let i = 0; i < xs.length; i++) {
      const exact = 1 / (1 + Math.exp(-xs[i]));
      if (exact < 1.2e-38) expect(x[i]).toBeLessThan(1.2e-38);
      else expect(Math.abs(x[i] - exact) / ulp(exact), `sigmoid(${xs[i]})`).toBeLessThan(3);
    }
  });

  it("addRowSums on one thread and on two", () => {
    const [nRows, n] = [67, 501];
    const x = randomArray(nRows * n, rng);
    const expected = randomArray(n, rng);
    const start = Float32Array.from(expected);
    ref.addRowSums(expected, x, nRows, n);
    for (const threads of [1, 2]) {
      const be = createBackend(choice, threads);
      try {
        const y = be.arena.f32(n);
        y.set(start);
        const xx = be.arena.f32(x.length);
        xx.set(x);
        be.kernels.addRowSums(y, xx, nRows, n);
        close(y, expected, `${threads} threads`);
      } finally {
        be.close();
      }
    }
  });

  it("optimizer steps match for RMSprop, Adam and SGD", () => {
    const n = 37;
    const p0 = randomArray(n, rng);
    const g = randomArray(n, rng);
    const run = (step: (p: Float32Array, s1: Float32Array, s2: Float32Array, g: Float32Array) => void) => {
      const [p, s1, s2] = [f32(p0), arena.f32(n), arena.f32(n)];
      for (let t = 0; t < 3; t++) step(p, s1, s2, f32(g));
      return p;
    };
    const rms = { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0.5 };
    const refRun = (step: (p: Float64Array, s1: Float64Array, s2: Float64Array) => void) => {
      const [p, s1, s2] = [p0.slice(), new Float64Array(n), new Float64Array(n)];
      for (let t = 0; t < 3; t++) step(p, s1, s2);
      return p;
    };
    close(
      run((p, v, _, gg) => k.rmspropStep(p, gg, v, n, rms)),
      refRun((p, v) => ref.rmspropStep(p, g, v, n, rms)),
    );
    let t1 = 0;
    let t2 = 0;
    const adam = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
    close(
      run((p, m, v, gg) => k.adamStep(p, gg, m, v, n, { ...adam, step: ++t1 })),
      refRun((p, m, v) => ref.adamStep(p, g, m, v, n, { ...adam, step: ++t2 })),
    );
    let s1 = 0;
    let s2 = 0;
    const sgd = { lr: 0.1, momentum: 0.9, weightDecay: 0.01 };
    close(
      run((p, b, _, gg) => k.sgdStep(p, gg, b, n, { ...sgd, first: ++s1 === 1 })),
      refRun((p, b) => ref.sgdStep(p, g, b, n, { ...sgd, first: ++s2 === 1 })),
    );
  });

  it("flushSubnormals zeroes exactly the subnormal entries", () => {
    const values = [1e-39, -1e-40, 1.2e-38, -3, 0, 1e-45, 2.5, -1.1e-38, 7e-39];
    const x = f32(values);
    k.flushSubnormals(x, values.length);
    const expected = Float64Array.from(Float32Array.from(values));
    ref.flushSubnormals(expected, values.length);
    expect([...x]).toEqual([...Float32Array.from(expected)]);
    expect([...x].filter((v) => v !== 0)).toHaveLength(3);
  });

  it("backward kernels restricted to column ranges add up to the whole", () => {
    const h = 6;
    const dOut = f32(randomArray(4 * h, rng));
    const whole = [arena.f32(23 * h), arena.f32(h)];
    k.sparseAffineBackward(whole[0], whole[1], batch, dOut, h);
    const parts = [arena.f32(23 * h), arena.f32(h)];
    k.sparseAffineBackward(parts[0], parts[1], batch, dOut, h, { start: 0, end: 11, withBias: true });
    k.sparseAffineBackward(parts[0], parts[1], batch, dOut, h, { start: 11, end: 23, withBias: false });
    close(parts[0], whole[0]);
    close(parts[1], whole[1]);

    const [hidden, v] = [f32(randomArray(4 * h, rng)), f32(randomArray(23 * h, rng))];
    const dPred = f32(randomArray(nnz, rng));
    const [dv, db, dh] = [arena.f32(23 * h), arena.f32(23), arena.f32(4 * h)];
    k.sparseOutputBackward(dv, db, dh, batch, dPred, hidden, v, h);
    const [pv, pb, ph1, ph2] = [arena.f32(23 * h), arena.f32(23), arena.f32(4 * h), arena.f32(4 * h)];
    k.sparseOutputBackward(pv, pb, ph1, batch, dPred, hidden, v, h, { start: 0, end: 9, withBias: true });
    k.sparseOutputBackward(pv, pb, ph2, batch, dPred, hidden, v, h, { start: 9, end: 23, withBias: true });
    close(pv, dv);
    close(pb, db);
    close(
      ph1.map((x, i) => x + ph2[i]),
      dh,
    );
  });

  it("runs big sparse kernels on several threads with the same results", () => {
    const big = randomCsr(300, 400, 0.2, 9);
    const h = 64;
    const run = (threads: number) => {
      const be = createBackend("wasm", threads);
      try {
        const { kernels: kk, arena: a } = be;
        const copy = <T extends Float32Array | Int32Array>(src: T, alloc: (n: number) => T) => {
          const out = alloc(src.length);
          out.set(src);
          return out;
        };
        const rows = copy(
          Int32Array.from({ length: 256 }, (_, i) => (i * 7) % 300),
          (n) => a.i32(n),
        );
        const b: RowBatch = {
          rows,
          nRows: 256,
          indptr: copy(big.indptr, (n) => a.i32(n)),
          indices: copy(big.indices, (n) => a.i32(n)),
          values: copy(big.values, (n) => a.f32(n)),
        };
        const r = new Rng(1);
        const w = copy(Float32Array.from(randomArray(400 * h, r, 0.1)), (n) => a.f32(n));
        const bias = copy(Float32Array.from(randomArray(400, r, 0.1)), (n) => a.f32(n));
        const hid = a.f32(256 * h);
        kk.sparseAffine(hid, b, w, bias.subarray(0, h), h);
        kk.activate(hid, 256 * h, "sigmoid");
        let n = 0;
        for (const row of rows) n += big.indptr[row + 1] - big.indptr[row];
        const pred = a.f32(n);
        kk.sparseOutput(pred, b, hid, w, bias, h);
        const dPred = a.f32(n);
        const sse = kk.squaredError(dPred, pred, b, 1 / n);
        const [dv, db, dh, dw, dwb] = [a.f32(400 * h), a.f32(400), a.f32(256 * h), a.f32(400 * h), a.f32(h)];
        kk.sparseOutputBackward(dv, db, dh, b, dPred, hid, w, h);
        kk.sparseAffineBackward(dw, dwb, b, dh, h);
        return { hid: hid.slice(), pred: pred.slice(), sse, dv: dv.slice(), dh: dh.slice(), dw: dw.slice() };
      } finally {
        be.close();
      }
    };
    const [one, two] = [run(1), run(2)];
    expect(two.hid).toEqual(one.hid);
    expect(two.pred).toEqual(one.pred);
    expect(two.dv).toEqual(one.dv);
    expect(two.sse).toBeCloseTo(one.sse, 6);
    close(two.dh, one.dh);
    close(two.dw, one.dw);
  });

  // 605 = 75 x 8 + 4 + 1 also takes the kernels' 4-wide and scalar tails.
  it.each([600, 605])(
    "column-grouped kernels match the row-wise ones, on one thread and on two (h %i)",
    (h) => {
      const big = randomCsr(200, 300, 0.15, 4);
      const rows = Int32Array.from({ length: 64 }, (_, i) => (i * 3) % 200);
      // Big enough that every step of the kernels, reductions included, is split across threads.
      const r = new Rng(3);
      const [w, v] = [randomArray(300 * h, r, 0.01), randomArray(300 * h, r, 0.01)];
      const [hiddenBias, outputBias] = [randomArray(h, r, 0.1), randomArray(300, r, 0.1)];
      const results = [1, 2].map((threads) => {
        const be = createBackend("wasm", threads);
        try {
          const { kernels: kk, arena: a } = be;
          const put = (src: ArrayLike<number>) => {
            const out = a.f32(src.length);
            out.set(src);
            return out;
          };
          const csr = {
            ...big,
            indptr: a.i32(big.indptr.length),
            indices: a.i32(big.indices.length),
            values: put(big.values),
          };
          csr.indptr.set(big.indptr);
          csr.indices.set(big.indices);
          const cols = new ColumnBatcher(a, 300).build(csr, rows);
          const [ww, vv, bb] = [put(w), put(v), put(outputBias)];
          const hid = a.f32(64 * h);
          for (let i = 0; i < 64; i++) hid.set(hiddenBias, i * h);
          kk.encodeColumns(hid, cols, ww, h, 64);
          const nnz = cols.start[cols.nUnique];
          const [pred, dPred, dv, db, dh] = [
            a.f32(nnz),
            a.f32(nnz),
            a.f32(300 * h),
            a.f32(300),
            a.f32(64 * h),
          ];
          const sse = kk.decodeColumnsLoss(
            pred,
            dPred,
            dv,
            db,
            dh,
            cols,
            hid,
            vv,
            bb,
            h,
            64,
            0.01,
            "sigmoid",
          );
          const dw = a.f32(300 * h);
          kk.encodeColumnsBackward(dw, cols, dh, h);
          const targets = new Float32Array(nnz);
          for (let e = 0; e < nnz; e++) targets[cols.qOf[e]] = cols.values[e];
          return {
            hid: hid.slice(),
            pred: pred.slice(),
            targets,
            dPred: dPred.slice(),
            sse,
            dv: dv.slice(),
            dh: dh.slice(),
            dw: dw.slice(),
          };
        } finally {
          be.close();
        }
      });
      // The row-wise reference on the same problem.
      const plain: RowBatch = { ...big, rows, nRows: 64 };
      const hid = new Float64Array(64 * h);
      ref.sparseAffine(hid, plain, w, hiddenBias, h);
      const nnz = results[0].pred.length;
      const pred = new Float64Array(nnz);
      ref.sparseOutput(pred, plain, Float64Array.from(results[0].hid), v, outputBias, h);
      ref.activate(pred, nnz, "sigmoid");
      const [dv, dBias, dh] = [new Float64Array(300 * h), new Float64Array(300), new Float64Array(64 * h)];
      const { hid: hidden, dPred } = results[0];
      ref.sparseOutputBackward(
        dv,
        dBias,
        dh,
        plain,
        Float64Array.from(dPred),
        Float64Array.from(hidden),
        v,
        h,
      );
      const dw = new Float64Array(300 * h);
      ref.sparseAffineBackward(dw, new Float64Array(h), plain, Float64Array.from(results[0].dh), h);
      for (const res of results) {
        close(res.hid, hid, "hidden");
        close(res.pred, pred, "predictions");
        close(res.dv, dv, "dV");
        close(res.dw, dw, "dW");
        close(res.dh, dh, "dHidden");
        expect(Math.abs(res.sse - results[0].sse) / results[0].sse).toBeLessThan(1e-6);
        let expected = 0;
        for (let q = 0; q < nnz; q++) expected += (res.pred[q] - res.targets[q]) ** 2;

        expect(Math.abs(res.sse - expected) / expected).toBeLessThan(1e-5);
      }
      // The plain-TypeScript twins of the column kernels, on the same grouping, agree with the WASM ones.
      const plainArena = { f32: (n: number) => new Float32Array(n), i32: (n: number) => new Int32Array(n) };
      const cols = new ColumnBatcher(plainArena, 300).build(big, rows);
      const twinHidden = new Float32Array(64 * h);
      for (let i = 0; i < 64; i++) twinHidden.set(hiddenBias, i * h);
      ref.encodeColumns(twinHidden, cols, Float32Array.from(w), h, 64);
      close(results[0].hid, twinHidden, "twin hidden");
      const [tp, tdp, tdv, tdb, tdh] = [nnz, nnz, 300 * h, 300, 64 * h].map((n) => new Float32Array(n));
      const twinSse = ref.decodeColumnsLoss(
        tp,
        tdp,
        tdv,
        tdb,
        tdh,
        cols,
        Float32Array.from(results[0].hid),
        Float32Array.from(v),
        Float32Array.from(outputBias),
        h,
        64,
        0.01,
        "sigmoid",
      );
      expect(Math.abs(twinSse - results[0].sse) / results[0].sse).toBeLessThan(1e-5);
      close(results[0].dv, tdv, "twin dV");
      close(results[0].dh, tdh, "twin dHidden");
      const twinDw = new Float32Array(300 * h);
      ref.encodeColumnsBackward(twinDw, cols, Float32Array.from(results[0].dh), h);
      close(results[0].dw, twinDw, "twin dW");
    },
  );

  it("splits optimizer steps across threads without changing the result", () => {
    const n = 70_001;
    const p0 = randomArray(n, rng);
    const g0 = randomArray(n, rng);
    const results = [1, 2, 3].map((threads) => {
      const be = createBackend("wasm", threads);
      try {
        const [p, g, v] = [be.arena.f32(n), be.arena.f32(n), be.arena.f32(n)];
        p.set(p0);
        g.set(g0);
        for (let t = 0; t < 5; t++)
          be.kernels.rmspropStep(p, g, v, n, { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0.5 });
        return p.slice();
      } finally {
        be.close();
      }
    });
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it("reduces vectors (dot, sums, largest magnitude) like the reference on any thread count", () => {
    // Long enough to be split across threads, with a tail that is not a multiple of the SIMD width.
    const n = 70_003;
    const [a, b] = [randomArray(n, rng), randomArray(n, rng)];
    a[n - 2] = -9.5; // the largest magnitude, in the scalar tail
    for (const threads of [1, 2, 3]) {
      const be = createBackend("wasm", threads);
      try {
        const [x, y] = [be.arena.f32(n), be.arena.f32(n)];
        x.set(a);
        y.set(b);
        const what = `${threads} threads`;
        // Double-precision sums in another order: equal to about 1e-15 relative.
        const near = (got: number, want: number) =>
          expect(Math.abs(got - want), what).toBeLessThan(1e-12 * Math.abs(want));
        near(be.kernels.dotProduct(x, y, n), ref.dotProduct(x, y, n));
        near(be.kernels.sumSquares(x, n), ref.sumSquares(x, n));
        near(be.kernels.sumAbs(x, n), ref.sumAbs(x, n));
        expect(be.kernels.maxAbs(x, n), what).toBe(9.5);
        expect(be.kernels.maxAbs(x, 7), what).toBe(ref.maxAbs(x, 7));
        expect(be.kernels.dotProduct(x, y, 0), what).toBe(0);
        x[n - 3] = Number.NaN;
        expect(be.kernels.maxAbs(x, n), what).toBeNaN();
      } finally {
        be.close();
      }
    }
  });
});

describe("the kernel builds", () => {
  it("runs the relaxed-SIMD build where the runtime has it, and the plain one when asked", () => {
    // Node 20 has relaxed SIMD behind a flag that the loader sets; later versions have it on.
    expect(createBackend("wasm").kernels.name).toBe("wasm-relaxed-simd");
    expect(createBackend("auto").kernels.name).toBe("wasm-relaxed-simd");
    expect(createBackend("wasm-simd").kernels.name).toBe("wasm-simd");
  });
});

describe("a profiled backend", () => {
  it("times every kernel call and the work labelled around them, and computes the same results", () => {
    const plain = createBackend("wasm");
    const profiled = profiledBackend(createBackend("wasm"));
    const x = profiled.arena.f32(1000).fill(1);
    const y = profiled.arena.f32(1000).fill(2);
    profiled.kernels.addScaled(y, x, 0.5, 1000);
    profiled.kernels.addScaled(y, x, 0.5, 1000);
    const dot = timed(
      profiled,
      "two dots",
      () => profiled.kernels.dotProduct(x, y, 1000) + profiled.kernels.dotProduct(x, y, 1000),
    );
    const [px, py] = [plain.arena.f32(1000).fill(1), plain.arena.f32(1000).fill(3)];
    expect(dot).toBe(2 * plain.kernels.dotProduct(px, py, 1000));
    const entries = Object.fromEntries(profiled.profile.entriesByTime().map((e) => [e.name, e.calls]));
    expect(entries).toEqual({ addScaled: 2, dotProduct: 2, "two dots": 1 });
    expect(timed(plain, "unprofiled", () => 7)).toBe(7);
  });
});

describe("the kernel pool", () => {
  it("rethrows a kernel that traps on a worker instead of waiting for it forever", () => {
    const be = createBackend("wasm", 2);
    try {
      const x = be.arena.f32(200_000);
      // Out of the memory's bounds: the worker's half of the fill traps.
      expect(() => be.kernels.fill(new Float32Array(x.buffer, x.byteOffset, 1), 2 ** 29, 0)).toThrow(
        /trapped|out of bounds/,
      );
      // The pool still works afterwards.
      be.kernels.fill(x, x.length, 2);
      expect(x[x.length - 1]).toBe(2);
    } finally {
      be.close();
    }
  });
});

describe("dense kernels of the top-N models", () => {
  const rng = new Rng(11);
  it("gemmAccumulate matches its twin across tiles, tails and threads, with leading dimensions", () => {
    // 7 x 300 by 300 x 261, inside larger row strides: rows not a multiple of 4, columns and inner steps not
    // of the 256 blocks.
    const [rows, inner, cols, ldm, ldx, ldOut] = [7, 300, 261, 305, 270, 263];
    const m = randomArray(rows * ldm, rng);
    const x = randomArray(inner * ldx, rng);
    const start = randomArray(rows * ldOut, rng);
    const expected = Float64Array.from(start);
    ref.gemmAccumulate(expected, m, x, rows, inner, cols, ldOut, ldm, ldx, -0.5);
    for (const threads of [1, 2]) {
      const be = createBackend("wasm", threads);
      try {
        const put = (src: Float64Array) => {
          const out = be.arena.f32(src.length);
          out.set(src);
          return out;
        };
        const out = put(start);
        be.kernels.gemmAccumulate(out, put(m), put(x), rows, inner, cols, ldOut, ldm, ldx, -0.5);
        expect(relativeError(out, expected), `${threads} threads`).toBeLessThan(1e-5);
      } finally {
        be.close();
      }
    }
  });

  it("softmaxCrossEntropy matches its twin, and its gradient matches finite differences (float64)", () => {
    const csr = randomCsr(5, 40, 0.2, 8);
    const rows = Int32Array.of(4, 0, 2);
    const z = randomArray(3 * 40, rng, 3);
    const batch: RowBatch = { ...csr, rows, nRows: 3 };
    const dz = new Float64Array(z.length);
    const loss = ref.softmaxCrossEntropy(dz, z, batch, 40, 0.5);
    const numeric = numericGradient(z, () =>
      ref.softmaxCrossEntropy(new Float64Array(z.length), z, batch, 40, 0.5),
    );
    expect(relativeError(dz, numeric)).toBeLessThan(1e-6);
    const be = createBackend("wasm", 2);
    try {
      const put = <T extends Float32Array | Int32Array>(src: ArrayLike<number>, make: (n: number) => T) => {
        const out = make(src.length);
        out.set(Array.from(src));
        return out;
      };
      const zz = put(z, (n) => be.arena.f32(n));
      const wasmBatch: RowBatch = {
        rows: put(rows, (n) => be.arena.i32(n)),
        nRows: 3,
        indptr: put(csr.indptr, (n) => be.arena.i32(n)),
        indices: put(csr.indices, (n) => be.arena.i32(n)),
        values: put(csr.values, (n) => be.arena.f32(n)),
      };
      const out = be.kernels.softmaxCrossEntropy(zz, zz, wasmBatch, 40, 0.5);
      expect(Math.abs(out - loss) / loss).toBeLessThan(1e-5);
      expect(relativeError(zz, dz)).toBeLessThan(1e-5);
    } finally {
      be.close();
    }
  });

  it("invertSpd inverts a symmetric positive definite matrix on both kernels, and refuses a singular one", async () => {
    const { invertSpd } = await import("../../src/kernels/spd-inverse.js");
    const n = 150; // two full blocks of 64 and a partial one
    const f = randomArray(n * 20, rng);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = i === j ? 3 : 0;
        for (let t = 0; t < 20; t++) s += f[i * 20 + t] * f[j * 20 + t];
        a[i * n + j] = s;
      }
    for (const kind of ["reference", "wasm"] as const) {
      const be = createBackend(kind, 2);
      try {
        const inv = be.arena.f32(n * n);
        inv.set(a);
        invertSpd(be, inv, n);
        let worst = 0;
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let t = 0; t < n; t++) s += a[i * n + t] * inv[t * n + j];
            worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
          }
        expect(worst, kind).toBeLessThan(1e-4);
        const singular = be.arena.f32(4);
        singular.set([1, 1, 1, 1]);
        expect(() => invertSpd(be, singular, 2)).toThrow(/not positive definite/);
      } finally {
        be.close();
      }
    }
  });
});
