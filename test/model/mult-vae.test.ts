import { describe, expect, it } from "vitest";
import { Rng } from "../../src/data/random.js";
import { buildCsr, type Csr } from "../../src/data/ratings.js";
import { type Backend, createBackend } from "../../src/kernels/index.js";
import { MultNetwork } from "../../src/model/mult-vae.js";
import { float64Backend, numericGradient, randomCsr, relativeError } from "../helpers.js";

const float64 = float64Backend;

/** Binary positives of 6 users over 9 items. */
function positives(backend: Backend): Csr {
  const csr = randomCsr(6, 9, 0.45, 3);
  const ones = buildCsr(
    Int32Array.from({ length: csr.indices.length }, (_, k) => {
      let r = 0;
      while (csr.indptr[r + 1] <= k) r++;
      return r;
    }),
    csr.indices,
    new Float32Array(csr.indices.length).fill(1),
    6,
    9,
  );
  const a = backend.arena;
  const out = {
    ...ones,
    indptr: a.i32(ones.indptr.length),
    indices: a.i32(ones.indices.length),
    values: a.f32(ones.values.length),
  };
  out.indptr.set(ones.indptr);
  out.indices.set(ones.indices);
  out.values.set(ones.values);
  return out;
}

describe.each([
  ["Mult-DAE", { variational: false, hidden: [], code: 4, positiveFrom: 4 }],
  ["Mult-VAE", { variational: true, hidden: [5], code: 3, positiveFrom: 4 }],
])("%s gradients agree with finite differences (float64)", (_name, config) => {
  it("through dropout, the sampled code and the KL term", () => {
    const network = new MultNetwork(config, 9, float64);
    network.initialize(new Rng(2));
    const data = positives(float64);
    const rows = [0, 2, 3, 5];
    // The same dropout mask and noise on every evaluation.
    const loss = () =>
      network.accumulateGradients(data, rows, 0.25, { dropout: 0.3, rng: new Rng(9), beta: 0.4 });
    network.grads.fill(0);
    loss();
    const analytic = network.grads.slice();
    const numeric = numericGradient(network.params, () => {
      const keep = network.grads.slice();
      const value = loss();
      network.grads.set(keep);
      return value;
    });
    for (let i = 0; i < numeric.length; i++) {
      expect(Math.abs(analytic[i] - numeric[i]), `parameter ${i}`).toBeLessThan(1e-6);
    }
  });
});

describe("the Mult network on the shipped kernels", () => {
  it("gives the plain-TypeScript twins' logits and gradients with WebAssembly SIMD on two threads", () => {
    const config = { variational: true, hidden: [40], code: 16, positiveFrom: 4 };
    const results = (["reference", "wasm"] as const).map((kind) => {
      const backend = createBackend(kind, 2);
      try {
        const network = new MultNetwork(config, 300, backend);
        network.initialize(new Rng(4));
        const csr = randomCsr(64, 300, 0.1, 5);
        const data = {
          ...csr,
          indptr: backend.arena.i32(csr.indptr.length),
          indices: backend.arena.i32(csr.indices.length),
          values: backend.arena.f32(csr.values.length),
        };
        data.indptr.set(csr.indptr);
        data.indices.set(csr.indices);
        data.values.fill(1);
        const rows = Array.from({ length: 64 }, (_, r) => r);
        network.grads.fill(0);
        const loss = network.accumulateGradients(data, rows, 1 / 64, {
          dropout: 0.5,
          rng: new Rng(7),
          beta: 0.2,
        });
        return { loss, grads: network.grads.slice(), logits: network.forward(data, rows).slice() };
      } finally {
        backend.close();
      }
    });
    expect(Math.abs(results[1].loss - results[0].loss) / results[0].loss).toBeLessThan(1e-5);
    expect(relativeError(results[1].logits, results[0].logits)).toBeLessThan(1e-5);
    expect(relativeError(results[1].grads, results[0].grads)).toBeLessThan(1e-4);
  });
});
