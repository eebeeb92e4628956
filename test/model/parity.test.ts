import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ratings } from "../../src/data/ratings.js";
import { createBackend, type KernelChoice } from "../../src/kernels/index.js";
import { setColumnBatchMin } from "../../src/model/autoencoder.js";
import { type AutoencoderConfig, AutoencoderModel } from "../../src/model/autoencoder-model.js";
import { lbfgsDefaults } from "../../src/train/lbfgs.js";
import { Optimizer, type OptimizerConfig, optimizerDefaults } from "../../src/train/optimizers.js";
import { TUTORIAL_PRESET } from "../../src/train/presets.js";
import { trainAutoencoder } from "../../src/train/train-autoencoder.js";
import { relativeError } from "../helpers.js";

// Fixtures written by bench/peers/parity.py with PyTorch: aerec must follow the same trajectory.
interface Run {
  lr: number;
  weightDecay: number;
  batches?: number[][];
  losses: number[];
  after1: Record<string, number[]>;
  after10: Record<string, number[]>;
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/sae-parity.json", import.meta.url), "utf8")) as {
  nUsers: number;
  nItems: number;
  hidden: number[];
  ratings: [number, number, number][];
  init: Record<string, number[]>;
  runs: Record<string, Run>;
  lbfgs: {
    lambda: number;
    hidden: number;
    init: Record<string, number[]>;
    losses: number[];
    after8: Record<string, number[]>;
  };
};

function setWeights(model: AutoencoderModel, torch: Record<string, number[]>): void {
  for (const t of model.network.tensors) {
    const w = torch[t.name];
    const [rows, cols] = t.shape;
    // aerec stores fc1.weight as [nInputs][h]; PyTorch as [h][nInputs].
    for (let i = 0; i < t.data.length; i++)
      t.data[i] = t.transposed ? w[(i % cols) * rows + Math.floor(i / cols)] : w[i];
  }
}

function fixtureRatings(): Ratings {
  const r = fixture.ratings;
  return new Ratings(
    Int32Array.from(r, (x) => x[0]),
    Int32Array.from(r, (x) => x[1]),
    Float32Array.from(r, (x) => x[2]),
    fixture.nUsers,
    fixture.nItems,
  );
}

function buildModel(kernels: KernelChoice): AutoencoderModel {
  const ratings = fixtureRatings();
  const config = {
    orientation: "user",
    hidden: fixture.hidden,
    activation: "sigmoid",
    outputActivation: "identity",
    inputScaling: "none",
  } as const;
  const model = new AutoencoderModel(
    "test",
    config,
    ratings,
    { min: 1, max: 5, step: 1 },
    createBackend(kernels),
  );
  setWeights(model, fixture.init);
  return model;
}

function expectParams(model: AutoencoderModel, expected: Record<string, number[]>): void {
  for (const t of model.network.tensors) {
    const [rows, cols] = t.shape;
    const ours = t.transposed
      ? Array.from(t.data, (_, i) => t.data[(i % rows) * cols + Math.floor(i / rows)])
      : t.data;
    expect(relativeError(ours, expected[t.name]), t.name).toBeLessThan(1e-5);
  }
}

// Every case runs on the row path and on the column-grouped path that shipped models train on (batches of 8
// rows and more; here every batch is forced onto it), with identity outputs as AutoRec has.
describe.each([
  ["reference", 8],
  ["wasm", 8],
  ["reference", 1],
  ["wasm", 1],
] as const)("parity with PyTorch (%s kernels, column grouping from %i rows)", (kernels, columnRows) => {
  let shipped = 8;
  beforeAll(() => {
    shipped = setColumnBatchMin(columnRows);
  });
  afterAll(() => {
    setColumnBatchMin(shipped);
  });
  const tutorialRun = (name: string, reset: boolean) => () => {
    const run = fixture.runs[name];
    const model = buildModel(kernels);
    const { network, targets } = model;
    const config: OptimizerConfig = optimizerDefaults("rmsprop", run.lr, run.weightDecay);
    const optimizer = new Optimizer(config, network.params, network.grads, network.backend);
    for (let step = 1; step <= 10; step++) {
      if (reset) network.grads.fill(0);
      const user = (step - 1) % fixture.nUsers;
      const mse = network.accumulateGradients(targets, [user], 1 / fixture.nItems) / fixture.nItems;
      optimizer.step();
      expect(mse).toBeCloseTo(run.losses[step - 1], 4);
      if (step === 1) expectParams(model, run.after1);
    }
    expectParams(model, run.after10);
  };

  it("the tutorial's RMSprop with gradients never reset", tutorialRun("rmsprop-accumulate", false));
  it("RMSprop with gradients reset each step", tutorialRun("rmsprop-reset", true));

  it("Adam on mini-batches, mean squared error over observed ratings", () => {
    const run = fixture.runs["adam-batches"];
    const model = buildModel(kernels);
    const { network, targets } = model;
    const optimizer = new Optimizer(
      optimizerDefaults("adam", run.lr, run.weightDecay),
      network.params,
      network.grads,
      network.backend,
    );
    network.reserve(2, 16);
    for (let step = 1; step <= 10; step++) {
      const users = run.batches![(step - 1) % run.batches!.length];
      const nnz = users.reduce((n, u) => n + targets.indptr[u + 1] - targets.indptr[u], 0);
      network.grads.fill(0);
      const loss = network.accumulateGradients(targets, users, 1 / nnz) / nnz;
      optimizer.step();
      expect(loss).toBeCloseTo(run.losses[step - 1], 4);
      if (step === 1) expectParams(model, run.after1);
    }
    expectParams(model, run.after10);
  });

  it("full-batch L-BFGS (strong Wolfe) on an item-based AutoRec follows torch.optim.LBFGS", () => {
    const { lbfgs } = fixture;
    const ratings = fixtureRatings();
    const config: AutoencoderConfig = {
      orientation: "item",
      hidden: [lbfgs.hidden],
      activation: "sigmoid",
      outputActivation: "identity",
      inputScaling: "none",
    };
    const model = new AutoencoderModel(
      "test",
      config,
      ratings,
      { min: 1, max: 5, step: 1 },
      createBackend(kernels),
    );
    setWeights(model, lbfgs.init);
    const result = trainAutoencoder(model, {
      ...TUTORIAL_PRESET.train,
      optimizer: lbfgsDefaults(),
      loss: "observed",
      l2: lbfgs.lambda,
      epochs: 8,
      resetGradients: true,
    });
    expect(result.history).toHaveLength(8);
    const nObserved = fixture.ratings.length;
    const penalty = (t: Float32Array) => t.reduce((a, x) => a + x * x, 0);
    const weights = model.network.tensors.filter((t) => t.isWeight);
    const objective =
      result.history[7].trainLoss ** 2 +
      ((lbfgs.lambda / 2) * weights.reduce((a, t) => a + penalty(t.data), 0)) / nObserved;
    expect(objective).toBeCloseTo(lbfgs.losses[0], 4);
    expectParams(model, lbfgs.after8);
  });
});
