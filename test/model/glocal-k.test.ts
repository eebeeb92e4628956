import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { STAR_SCALE } from "../../src/data/datasets.js";
import { loadData } from "../../src/data/load.js";
import { Ratings } from "../../src/data/ratings.js";
import { type Backend, createBackend } from "../../src/kernels/index.js";
import { setColumnBatchMin } from "../../src/model/autoencoder.js";
import { AutoencoderModel } from "../../src/model/autoencoder-model.js";
import { Blend } from "../../src/model/blend.js";
import { predict } from "../../src/model/model.js";
import {
  fitGlocal,
  GlocalObjective,
  GlocalParameters,
  type GlocalSettings,
} from "../../src/train/glocal-k.js";
import { glocalKKind } from "../../src/train/glocal-k-kind.js";
import { relativeError } from "../helpers.js";

// Written by bench/peers/glocal_k.py --fixture: a small problem with the PyTorch port's parameters and the
// value and gradient (float64) of the pre-training and fine-tuning objectives at them.
interface Stage {
  loss: number;
  grads: number[][];
}
const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/glocal-k-parity.json", import.meta.url), "utf8"),
) as {
  nUsers: number;
  nItems: number;
  hidden: number[];
  dims: number;
  lambda2: number;
  lambdaS: number;
  dotScale: number;
  ratings: [number, number, number][];
  params: number[][];
  pretrain: Stage;
  finetune: Stage;
};

const backends: Backend[] = [];
afterAll(() => {
  for (const b of backends) b.close();
});

/**
 * PyTorch's layer l (W [n_in][n_out], b, u [n_in][d], v [n_out][d]) in aerec's layout: the first layer
 * keeps W as it is, rows as inputs (a = u, bT = v^T); later ones store W^T, rows as outputs (a = v, bT = u^T).
 */
function toAerec(tensors: number[][], l: number, rows: number, cols: number, d: number) {
  const [W, b, u, v] = tensors.slice(4 * l, 4 * l + 4);
  const first = l === 0;
  const w = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) w[r * cols + c] = first ? W[r * cols + c] : W[c * rows + r];
  const [rowEmb, colEmb] = first ? [u, v] : [v, u];
  const bT = new Float64Array(d * cols);
  for (let c = 0; c < cols; c++) for (let t = 0; t < d; t++) bT[t * cols + c] = colEmb[c * d + t];
  return { w, bias: b, a: rowEmb, bT };
}

function setup(choice: "reference" | "wasm", threads: number) {
  const backend = createBackend(choice, threads);
  backends.push(backend);
  const r = fixture.ratings;
  const train = new Ratings(
    Int32Array.from(r, (x) => x[0]),
    Int32Array.from(r, (x) => x[1]),
    Float32Array.from(r, (x) => x[2]),
    fixture.nUsers,
    fixture.nItems,
  );
  const config = {
    orientation: "item" as const,
    hidden: fixture.hidden,
    activation: "sigmoid" as const,
    outputActivation: "identity" as const,
    inputScaling: "none" as const,
  };
  const model = new AutoencoderModel("glocal-k", config, train, STAR_SCALE, backend);
  const params = new GlocalParameters(model, fixture.dims);
  params.layers.forEach((layer, l) => {
    const t = toAerec(fixture.params, l, layer.rows, layer.cols, fixture.dims);
    layer.w.set(t.w);
    layer.bias.set(t.bias);
    layer.a.set(t.a);
    layer.bT.set(t.bT);
  });
  params.conv.set(fixture.params.at(-1)!);
  const settings: GlocalSettings = {
    ...glocalKKind.defaults,
    hidden: fixture.hidden,
    kernelDims: fixture.dims,
    lambda: fixture.lambda2,
    lambdaSparse: fixture.lambdaS,
    dotScale: fixture.dotScale,
  };
  return { params, objective: new GlocalObjective(params, settings) };
}

describe.each([
  ["reference", 1, 8],
  ["wasm", 1, 8],
  ["wasm", 2, 1_000_000],
] as const)(
  "GLocal-K's objective on %s kernels, %i thread(s), column batches from %i rows",
  (choice, threads, columnMin) => {
    for (const stage of ["pretrain", "finetune"] as const) {
      it(`matches PyTorch's ${stage} value and gradient`, () => {
        const previous = setColumnBatchMin(columnMin);
        try {
          const { params, objective } = setup(choice, threads);
          const point = params.theta.slice();
          const loss = objective.evaluate(point, params.grad, stage === "finetune");
          const expected = fixture[stage];
          expect(Math.abs(loss - expected.loss) / expected.loss).toBeLessThan(1e-5);
          params.layers.forEach((layer, l) => {
            const g = toAerec(expected.grads, l, layer.rows, layer.cols, fixture.dims);
            expect(relativeError(layer.gw, g.w), `layer ${l} W`).toBeLessThan(1e-4);
            expect(relativeError(layer.gBias, g.bias), `layer ${l} bias`).toBeLessThan(1e-4);
            expect(relativeError(layer.ga, g.a), `layer ${l} row embeddings`).toBeLessThan(1e-4);
            expect(relativeError(layer.gbT, g.bT), `layer ${l} column embeddings`).toBeLessThan(1e-4);
          });
          const gConv = expected.grads.at(-1)!;
          if (stage === "finetune") expect(relativeError(params.gConv, gConv)).toBeLessThan(1e-4);
          else expect(params.gConv.every((x) => x === 0)).toBe(true);
        } finally {
          setColumnBatchMin(previous);
        }
      });
    }
  },
);

describe("glocal-k with several runs", () => {
  it("averages fits from successive seeds on one validation split, refit and predicting as one model", async () => {
    const data = await loadData("synthetic:users=60,items=30,ratings=1200,min=8", { seed: 2 });
    const backend = createBackend("wasm", 1);
    backends.push(backend);
    const settings: GlocalSettings = {
      ...glocalKKind.defaults,
      hidden: [8],
      pretrainEpochs: 2,
      finetuneEpochs: 2,
    };
    const single = (seed: number) => fitGlocal("glocal-k", data, { ...settings, seed, runs: 1 }, backend);
    const phases: (string | undefined)[] = [];
    const averaged = fitGlocal("glocal-k", data, { ...settings, runs: 2 }, backend, (e) =>
      phases.push(e.phase),
    );
    expect(averaged.model).toBeInstanceOf(Blend);
    expect(averaged.model.kind).toBe("glocal-k");
    expect(averaged.model.describe()).toBe("glocal-k: the average of 2 fits");
    expect([...new Set(phases)]).toEqual([undefined, "refit", "run 2/2", "run 2/2 refit"]);
    const members = (averaged.model as Blend).members;
    // The first run is the single fit; the second starts from the next seed but holds out the same ratings.
    const first = single(1);
    expect(predict(members[0], data.test)).toEqual(predict(first.model, data.test));
    expect(predict(members[1], data.test)).not.toEqual(predict(members[0], data.test));
    expect(averaged.validation).toEqual(first.validation);
    const test = [predict(members[0], data.test), predict(members[1], data.test)];
    const p = predict(averaged.model, data.test);
    for (let k = 0; k < p.length; k++) expect(p[k]).toBeCloseTo((test[0][k] + test[1][k]) / 2, 5);
    // Validation predictions average the runs trained without those ratings (the blend fits weights to them).
    expect(averaged.validationPredictions).toHaveLength(first.validation!.size);
    expect(Array.from(averaged.validationPredictions!)).not.toEqual(Array.from(first.validationPredictions!));
  });
});
