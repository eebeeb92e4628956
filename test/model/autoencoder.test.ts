import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/data/random.js";
import { Ratings } from "../../src/data/ratings.js";
import { createBackend } from "../../src/kernels/index.js";
import { setColumnBatchMin } from "../../src/model/autoencoder.js";
import { type AutoencoderConfig, AutoencoderModel } from "../../src/model/autoencoder-model.js";
import { predict } from "../../src/model/model.js";
import { float64Backend, numericGradient } from "../helpers.js";

const float64 = float64Backend;

const ratings = new Ratings(
  Int32Array.of(0, 0, 1, 1, 1, 2, 3, 3),
  Int32Array.of(0, 3, 1, 2, 4, 0, 2, 4),
  Float32Array.of(5, 3, 4, 1, 2, 4, 5, 3),
  4,
  5,
);

/** The tutorial's layers, smaller: the tests below vary it. */
const SMALL: AutoencoderConfig = {
  orientation: "user",
  hidden: [3, 2, 3],
  activation: "sigmoid",
  outputActivation: "identity",
  inputScaling: "none",
};

function check(config: AutoencoderConfig, dropout: number) {
  const model = new AutoencoderModel("test", config, ratings, { min: 1, max: 5, step: 1 }, float64);
  const { network, targets, input } = model;
  network.initialize(3);
  const rows = [0, 1, 3];
  const loss = () => network.accumulateGradients(targets, rows, 0.5, { input, dropout, rng: new Rng(9) });
  network.grads.fill(0);
  loss();
  const analytic = network.grads.slice();
  const numeric = numericGradient(network.params, () => 0.5 * loss());
  for (let i = 0; i < numeric.length; i++) {
    expect(Math.abs(analytic[i] - numeric[i]), `parameter ${i}`).toBeLessThan(1e-6);
  }
}

describe.each([8, 1])(
  "whole-network gradients agree with finite differences (float64, column grouping from %i rows)",
  (columnRows) => {
    let shipped = 8;
    beforeAll(() => {
      shipped = setColumnBatchMin(columnRows);
    });
    afterAll(() => {
      setColumnBatchMin(shipped);
    });
    it("the tutorial's SAE", () => check(SMALL, 0));
    it("SELU layers with dropout on the code layer", () => check({ ...SMALL, activation: "selu" }, 0.4));
    it("an item-based AutoRec with a sigmoid output", () =>
      check({ ...SMALL, orientation: "item", hidden: [4], outputActivation: "sigmoid" }, 0));
    it("an item-based AutoRec reading offset inputs", () =>
      check({ ...SMALL, orientation: "item", hidden: [4], inputOffset: 15 }, 0));
  },
);

describe("a tied decoder", () => {
  it("learns the shared weights: folded gradients agree with finite differences (float64)", () => {
    const config: AutoencoderConfig = { ...SMALL, activation: "selu", tied: true };
    const model = new AutoencoderModel("test", config, ratings, { min: 1, max: 5, step: 1 }, float64);
    const { network, targets } = model;
    network.initialize(2);
    network.tieDecoder();
    // Every forward pass ties the decoder: fc4 = fc1 (same layout), fc3 = fc2 transposed.
    // After tying the decoder mirrors the encoder: fc4 = fc1 (same layout), fc3 = fc2 transposed.
    expect(Array.from(network.tensors[6].data)).toEqual(Array.from(network.tensors[0].data));
    expect(network.tensors[4].data[1]).toBe(network.tensors[2].data[3]);
    const rows = [0, 1, 3];
    const loss = () => {
      network.grads.fill(0);
      return 0.5 * network.accumulateGradients(targets, rows, 0.5);
    };
    loss();
    const analytic = network.grads.slice();
    for (const k of [0, 2]) {
      const t = network.tensors[k].data;
      const offset = t.byteOffset / 8 - network.params.byteOffset / 8;
      const numeric = numericGradient(t, loss);
      for (let i = 0; i < t.length; i++) {
        expect(Math.abs(analytic[offset + i] - numeric[i]), `tensor ${k}[${i}]`).toBeLessThan(1e-6);
      }
    }
    expect(
      Array.from(
        analytic.subarray(network.tensors[6].data.byteOffset / 8 - network.params.byteOffset / 8),
      ).slice(0, 5),
    ).toEqual([0, 0, 0, 0, 0]);
  });

  it("refuses asymmetric hidden sizes", () => {
    const config: AutoencoderConfig = { ...SMALL, hidden: [4, 2], activation: "selu", tied: true };
    expect(() => new AutoencoderModel("test", config, ratings, { min: 1, max: 5, step: 1 }, float64)).toThrow(
      /symmetric hidden sizes/,
    );
  });
});

describe("AutoencoderModel", () => {
  it("item-based scoreUsers agrees with predictions at the same pairs", () => {
    const config: AutoencoderConfig = { ...SMALL, orientation: "item", hidden: [4] };
    const model = new AutoencoderModel("test", config, ratings, { min: -100, max: 100, step: 1 }, float64);
    model.network.initialize(1);
    const pairs = new Ratings(Int32Array.of(2, 2, 0), Int32Array.of(1, 3, 2), Float32Array.of(0, 0, 0), 4, 5);
    const predicted = predict(model, pairs);
    const scores = model.scoreUsers([2]);
    expect(predicted[0]).toBeCloseTo(scores[1], 6);
    expect(predicted[1]).toBeCloseTo(scores[3], 6);
  });
});

describe("AutoencoderModel input offset", () => {
  const config: AutoencoderConfig = {
    ...SMALL,
    hidden: [4],
    inputScaling: "inverse-sqrt-count",
    inputOffset: 15,
  };
  const scale = { min: -100, max: 100, step: 1 };

  it("moves what the encoder reads, never the targets", () => {
    const model = new AutoencoderModel("test", { ...config, inputScaling: "none" }, ratings, scale, float64);
    expect(Array.from(model.targets.values)).toEqual(Array.from(ratings.byUser().values));
    expect(Array.from(model.input.values)).toEqual(Array.from(ratings.byUser().values, (v) => v + 15));
    expect(Array.from(model.input.indices)).toEqual(Array.from(model.targets.indices));
  });

  it("fold-in reads a new user's ratings as training read a known user's (offset, then scaled)", () => {
    const model = new AutoencoderModel("test", config, ratings, scale, float64);
    model.network.initialize(2);
    const known = model.scoreUsers([1]).slice();
    const folded = model.foldIn([4, 1, 2], [2, 4, 1]);
    for (let i = 0; i < known.length; i++) expect(folded[i]).toBeCloseTo(known[i], 6);
  });

  it("passes over kept column batches of an offset input match fresh ones", () => {
    const backend = createBackend("auto");
    const rng = new Rng(4);
    const [users, items, values]: number[][] = [[], [], []];
    for (let u = 0; u < 40; u++) {
      for (let i = 0; i < 30; i++) {
        if (rng.float() >= 0.3) continue;
        users.push(u);
        items.push(i);
        values.push(1 + rng.int(5));
      }
    }
    const train = new Ratings(
      Int32Array.from(users),
      Int32Array.from(items),
      Float32Array.from(values),
      40,
      30,
    );
    const model = new AutoencoderModel("test", { ...config, inputScaling: "none" }, train, scale, backend);
    const { network, targets, input } = model;
    network.initialize(4);
    const rows = Array.from({ length: 40 }, (_, r) => r);
    const pass = (options: object) => {
      network.grads.fill(0);
      return [network.accumulateGradients(targets, rows, 1, { input, ...options }), network.grads.slice()];
    };
    const fresh = pass({});
    const kept = network.keepColumns(targets, rows, input)!;
    expect(kept.input.values).not.toEqual(kept.target.values);
    expect(pass({ columns: kept })).toEqual(fresh);
    // The input's own values are what counts: the targets' in their place give other gradients.
    const wrong = pass({ columns: { target: kept.target, input: kept.target } });
    expect(wrong).not.toEqual(fresh);
  });
});
