import { z } from "zod";
import { permutation, Rng } from "../data/random.js";
import type { Csr, Ratings } from "../data/ratings.js";
import type { AutoencoderModel } from "../model/autoencoder-model.js";
import { type EpochReport, predict } from "../model/model.js";
import { ratingMetrics } from "../model/rating-metrics.js";
import { TrainingDivergedError } from "./errors.js";
import { Lbfgs, type LbfgsConfig, lbfgsConfigSchema } from "./lbfgs.js";
import {
  adamConfigSchema,
  type DecaySegment,
  Optimizer,
  type OptimizerConfig,
  rmspropConfigSchema,
  sgdConfigSchema,
} from "./optimizers.js";

/** How to train an autoencoder. */
export const trainConfigSchema = z
  .object({
    /** Most epochs (for L-BFGS: iterations, each one full-batch pass or more). */
    epochs: z.number().int().min(1).max(100_000),
    /** Rows (users or movies) per optimizer step; ignored by L-BFGS, which is full-batch. */
    batchSize: z.number().int().min(1).max(1_000_000),
    optimizer: z.discriminatedUnion("kind", [
      adamConfigSchema,
      rmspropConfigSchema,
      sgdConfigSchema,
      lbfgsConfigSchema,
    ]),
    /**
     * Reset the gradients before each step. The tutorial never calls optimizer.zero_grad(), so its
     * gradients accumulate over every step of every epoch; `false` reproduces that.
     */
    resetGradients: z.boolean(),
    /**
     * "all-columns": nn.MSELoss over every column with unobserved outputs zeroed (the tutorial's loss,
     * sum of squared errors / (rows x columns)); "observed": mean squared error over the observed ratings.
     */
    loss: z.enum(["all-columns", "observed"]),
    /**
     * AutoRec's regularisation: the objective is sum of squared errors + l2/2 * (squared norm of every
     * weight matrix, biases excluded), divided by the number of observed ratings so that step sizes do not
     * depend on the data set's size. 0 = none.
     */
    l2: z.number().finite().min(0).max(1e9),
    /**
     * Denoising: each step hides this fraction of every row's input ratings (the rest scaled by 1/(1-p), as
     * inverted dropout does) while the loss still covers all of them. 0 = off.
     */
    inputDropout: z.number().min(0).max(0.95),
    /** Dropout on the code (middle hidden) layer while training, as Kuchaiev & Ginsburg do. 0 = off. */
    codeDropout: z.number().min(0).max(0.95),
    /**
     * Dense re-feeding (Kuchaiev & Ginsburg 2017): after each step on a batch, its dense reconstruction
     * f(x) becomes a second input whose target is itself, and the model takes another step on it.
     */
    refeed: z.boolean(),
    /** Visit rows in a new random order each epoch (the tutorial visits them in id order). */
    shuffle: z.boolean(),
    /** Stop after this many epochs without a better validation RMSE and keep the best epoch; 0 = never. */
    patience: z.number().int().min(0),
    seed: z.number().int().min(0),
  })
  .strict();
/** How to train an autoencoder. */
export type TrainConfig = z.infer<typeof trainConfigSchema>;

export type { EpochReport } from "../model/model.js";

/**
 * Everything a first-order training run needs to continue exactly where it stopped: the epochs done, the
 * optimizer's state, the random stream, and the early-stopping bookkeeping. The parameters are the model's.
 */
export interface TrainingState {
  epoch: number;
  history: EpochReport[];
  optimizerSteps: number;
  optimizerState: Record<string, Float32Array>;
  rng: number[];
  best: { epoch: number; rmse: number; params: Float32Array | null };
}

/** The outcome of training. */
export interface TrainResult {
  history: EpochReport[];
  /** Epoch whose parameters the model holds (the best on validation with early stopping, else the last). */
  bestEpoch: number;
  seconds: number;
  /** Why training ended before its last epoch, if it did. */
  stopped?: string;
  /** Seconds spent training again on all training ratings (included in `seconds`), when refitting. */
  refitSeconds?: number;
  /** The state to continue from, with the last epoch's parameters (first-order optimizers only). */
  state?: TrainingState;
  /** The last epoch's parameters (the model may hold the best epoch's instead). */
  lastParams?: Float32Array;
}

/**
 * Trains `model` on its own training ratings. With `validation`, reports validation RMSE each epoch and, with
 * patience, stops early and restores the best epoch. The test ratings never enter here.
 */
export function trainAutoencoder(
  model: AutoencoderModel,
  config: TrainConfig,
  options: { validation?: Ratings; onEpoch?: (report: EpochReport) => void; resume?: TrainingState } = {},
): TrainResult {
  const { network } = model;
  const rows = nonEmptyRows(model.targets);
  const nObserved = model.targets.indptr[model.targets.nRows];
  const { resume } = options;
  if (resume && config.optimizer.kind === "lbfgs")
    throw new Error("resuming works with adam, rmsprop and sgd, not lbfgs");
  if (config.refeed && model.config.inputOffset)
    throw new Error("dense re-feeding reads outputs back as inputs, which takes no input offset: drop one");
  const rng = resume ? Rng.fromState(resume.rng) : new Rng(config.seed);
  const minibatch =
    config.optimizer.kind === "lbfgs"
      ? null
      : minibatchEpoch(model, config, config.optimizer, rows, nObserved, rng);
  if (resume && minibatch) minibatch.optimizer.restore(resume.optimizerSteps, resume.optimizerState);
  const step = minibatch
    ? minibatch.step
    : lbfgsEpoch(model, config, config.optimizer as LbfgsConfig, rows, nObserved);
  const history: EpochReport[] = resume ? [...resume.history] : [];
  // Copies kept across epochs: the last finite parameters, and the best on validation.
  const lastGood = network.params.slice();
  const best = resume
    ? { ...resume.best, params: resume.best.params?.slice() ?? null }
    : { epoch: 0, rmse: Number.POSITIVE_INFINITY, params: null as Float32Array | null };
  let stopped: string | undefined;
  const started = performance.now();

  for (let epoch = (resume?.epoch ?? 0) + 1; epoch <= config.epochs; epoch++) {
    const epochStart = performance.now();
    const { trainLoss, done, evaluations } = step();
    model.weightsChanged();
    // Diverged: a NaN or infinite loss or parameter, or a loss exploded past 100 times the first epoch's.
    const firstLoss = history[0]?.trainLoss ?? trainLoss;
    const largest = network.backend.kernels.maxAbs(network.params, network.params.length);
    if (!Number.isFinite(trainLoss) || trainLoss > EXPLODED * firstLoss || !Number.isFinite(largest)) {
      network.params.set(lastGood);
      model.weightsChanged();
      throw new TrainingDivergedError(epoch, trainLoss);
    }
    lastGood.set(network.params);
    const report: EpochReport = { epoch, trainLoss, seconds: (performance.now() - epochStart) / 1000 };
    if (evaluations !== undefined) report.evaluations = evaluations;
    if (options.validation) {
      report.validationRmse = ratingMetrics(
        predict(model, options.validation),
        options.validation.values,
      ).rmse;
      if (report.validationRmse < best.rmse) {
        best.epoch = epoch;
        best.rmse = report.validationRmse;
        best.params ??= new Float32Array(lastGood.length);
        best.params.set(lastGood);
      }
    }
    history.push(report);
    options.onEpoch?.({ ...report, epochs: config.epochs });
    if (done) {
      stopped = done;
      break;
    }
    if (config.patience > 0 && options.validation && epoch - best.epoch >= config.patience) {
      stopped = `no better validation RMSE for ${config.patience} epochs`;
      break;
    }
  }
  const lastParams = network.params.slice();
  const state: TrainingState | undefined = minibatch
    ? {
        epoch: history.length,
        history,
        optimizerSteps: minibatch.optimizer.steps,
        optimizerState: minibatch.optimizer.state,
        rng: rng.state(),
        best: { ...best },
      }
    : undefined;
  let bestEpoch = history.length;
  if (config.patience > 0 && best.params) {
    network.params.set(best.params);
    model.weightsChanged();
    bestEpoch = best.epoch;
  }
  return { history, bestEpoch, seconds: (performance.now() - started) / 1000, stopped, state, lastParams };
}

type EpochStep = () => { trainLoss: number; done?: string; evaluations?: number };

/** A training loss this many times the first epoch's counts as exploded. */
const EXPLODED = 100;

function nonEmptyRows(csr: Csr): number[] {
  const rows: number[] = [];
  for (let r = 0; r < csr.nRows; r++) if (csr.indptr[r + 1] > csr.indptr[r]) rows.push(r);
  return rows;
}

/** The optimizer segments that give every weight matrix (not the biases) extra decay `c`. */
function decaySegments(model: AutoencoderModel, c: number): DecaySegment[] {
  const { network } = model;
  return network.tensors.map((t, k) => {
    const start = t.data.byteOffset / 4 - network.params.byteOffset / 4;
    return { start, end: start + t.data.length, extraDecay: t.isWeight && !network.isTiedCopy(k) ? c : 0 };
  });
}

/** Adds l2 * W to the gradient of every weight matrix (scaled by `c`); returns c/2 * sum of their squares. */
function addWeightPenalty(model: AutoencoderModel, c: number): number {
  if (c === 0) return 0;
  const { network } = model;
  const { kernels } = network.backend;
  let penalty = 0;
  network.tensors.forEach((t, k) => {
    if (!t.isWeight || network.isTiedCopy(k)) return;
    kernels.addScaled(network.gradTensors[k], t.data, c, t.data.length);
    penalty += (c / 2) * kernels.sumSquares(t.data, t.data.length);
  });
  return penalty;
}

function minibatchEpoch(
  model: AutoencoderModel,
  config: TrainConfig,
  optimizerConfig: OptimizerConfig,
  rows: number[],
  nObserved: number,
  rng: Rng,
): { step: EpochStep; optimizer: Optimizer } {
  const { network, input, targets } = model;
  const { kernels } = network.backend;
  const l2 = config.l2 / nObserved;
  // AutoRec's penalty on the weight matrices rides in the optimizer step as extra decay on their stretches.
  const segments = l2 > 0 ? decaySegments(model, l2) : undefined;
  const optimizer = new Optimizer(optimizerConfig, network.params, network.grads, network.backend, segments);
  const batchSize = Math.max(1, Math.min(config.batchSize, rows.length));
  // No batch can hold more entries than the batchSize longest rows together.
  const lengths = Int32Array.from(rows, (r) => targets.indptr[r + 1] - targets.indptr[r])
    .sort()
    .reverse();
  const maxBatchNnz = lengths.subarray(0, batchSize).reduce((a, b) => a + b, 0);
  network.reserve(batchSize, maxBatchNnz);
  kernels.fill(network.grads, network.grads.length, 0);
  const corrupted = config.inputDropout > 0 ? scratchCsr(model, batchSize, maxBatchNnz) : null;
  const corruptedRows = Array.from({ length: batchSize }, (_, i) => i);
  const refeedInput = config.refeed ? denseRows(model, batchSize, network.shape.nInputs) : null;
  const tutorialLoss = batchSize === 1 && config.loss === "all-columns";

  const step = () => {
    const order = config.shuffle ? Array.from(permutation(rows.length, rng), (i) => rows[i]) : rows;
    let perRow = 0;
    let sse = 0;
    for (let at = 0; at < order.length; at += batchSize) {
      const batch = order.slice(at, at + batchSize);
      let nnz = 0;
      for (const r of batch) nnz += targets.indptr[r + 1] - targets.indptr[r];
      const scale = config.loss === "all-columns" ? 1 / (batch.length * targets.nCols) : 1 / nnz;
      const batchSse = network.accumulateGradients(targets, batch, scale, {
        input: corrupted ? dropInputs(corrupted, input, batch, config.inputDropout, rng) : input,
        inputRows: corrupted ? corruptedRows.slice(0, batch.length) : batch,
        dropout: config.codeDropout,
        rng,
      });
      optimizer.step(config.resetGradients);
      sse += batchSse;
      if (tutorialLoss) perRow += Math.sqrt(batchSse / nnz);
      if (refeedInput) refeedStep(model, batch, refeedInput, optimizer, rng, config.codeDropout);
    }
    optimizer.flushSubnormals();
    return { trainLoss: tutorialLoss ? perRow / order.length : Math.sqrt(sse / nObserved) };
  };
  return { step, optimizer };
}

/** Full-batch L-BFGS: one epoch is one iteration (a line search of one or more full passes). */
function lbfgsEpoch(
  model: AutoencoderModel,
  config: TrainConfig,
  lbfgsConfig: LbfgsConfig,
  rows: number[],
  nObserved: number,
): EpochStep {
  const { network, input, targets } = model;
  const { kernels } = network.backend;
  const chunk = 256;
  const chunks: number[][] = [];
  for (let at = 0; at < rows.length; at += chunk) chunks.push(rows.slice(at, at + chunk));
  const nnzOf = (slice: number[]) => slice.reduce((n, r) => n + targets.indptr[r + 1] - targets.indptr[r], 0);
  network.reserve(chunk, Math.max(...chunks.map(nnzOf)));
  // Every evaluation visits the same chunks: group each one's entries by column once.
  const columns = chunks.map((c) => network.keepColumns(targets, c, input));
  const l2 = config.l2 / nObserved;
  let lastSse = 0;
  const objective = (x: Float32Array, grad: Float32Array): number => {
    network.params.set(x);
    kernels.fill(network.grads, network.grads.length, 0);
    let sse = 0;
    chunks.forEach((c, i) => {
      sse += network.accumulateGradients(targets, c, 1 / nObserved, { input, columns: columns[i] });
    });
    const penalty = addWeightPenalty(model, l2);
    grad.set(network.grads);
    lastSse = sse;
    return sse / nObserved + penalty;
  };
  const lbfgs = new Lbfgs(lbfgsConfig, network.params, objective, network.backend);
  return () => {
    const before = lbfgs.evaluations;
    const status = lbfgs.step();
    network.params.set(lbfgs.x);
    return {
      evaluations: lbfgs.evaluations - before,
      trainLoss: Math.sqrt(lastSse / nObserved),
      done: status === "continue" ? undefined : `L-BFGS stopped: ${status}`,
    };
  };
}

/** The dense re-feeding step: f(x) for the batch becomes both input and target of one more update. */
function refeedStep(
  model: AutoencoderModel,
  batch: number[],
  full: Csr,
  optimizer: Optimizer,
  rng: Rng,
  dropout: number,
) {
  const { network, input } = model;
  const n = network.shape.nInputs;
  network.encode(input, batch);
  full.values.set(network.decodeDense(batch.length));
  const rows = Array.from({ length: batch.length }, (_, i) => i);
  network.accumulateGradients(full, rows, 1 / (batch.length * n), { dropout, rng });
  optimizer.step(true);
}

/** A CSR in the network's memory whose `rows` rows hold every one of `n` columns (for dense re-feeding). */
function denseRows(model: AutoencoderModel, rows: number, n: number): Csr {
  const csr = scratchCsr(model, rows, rows * n);
  for (let r = 0; r <= rows; r++) csr.indptr[r] = r * n;
  for (let k = 0; k < rows * n; k++) csr.indices[k] = k % n;
  return csr;
}

/** An empty CSR in the network's memory for up to `rows` rows and `nnz` entries. */
function scratchCsr(model: AutoencoderModel, rows: number, nnz: number): Csr {
  const { arena } = model.network.backend;
  const nCols = model.targets.nCols;
  return { nRows: rows, nCols, indptr: arena.i32(rows + 1), indices: arena.i32(nnz), values: arena.f32(nnz) };
}

/** Fills `out` with `rows` of `source`, each entry kept with probability 1-p and scaled by 1/(1-p). */
function dropInputs(out: Csr, source: Csr, rows: number[], p: number, rng: Rng): Csr {
  const keep = 1 / (1 - p);
  let k = 0;
  rows.forEach((r, b) => {
    out.indptr[b] = k;
    for (let q = source.indptr[r]; q < source.indptr[r + 1]; q++) {
      if (rng.float() < p) continue;
      out.indices[k] = source.indices[q];
      out.values[k++] = source.values[q] * keep;
    }
  });
  out.indptr[rows.length] = k;
  return out;
}
