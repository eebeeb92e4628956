import { permutation, Rng } from "../data/random.js";
import type { Csr, Ratings } from "../data/ratings.js";
import { ratingMetrics } from "../eval/metrics.js";
import type { SaeModel } from "../model/sae-model.js";
import { TrainingDivergedError } from "./errors.js";
import { Optimizer, type OptimizerConfig } from "./optimizers.js";

/** How to train a stacked autoencoder. */
export interface SaeTrainConfig {
  epochs: number;
  /** Users per optimizer step. */
  batchSize: number;
  optimizer: OptimizerConfig;
  /**
   * Reset the gradients before each step. The tutorial never calls optimizer.zero_grad(), so its gradients
   * accumulate over every step of every epoch; `false` reproduces that.
   */
  resetGradients: boolean;
  /**
   * "all-columns": nn.MSELoss over every movie column with unobserved outputs zeroed (the tutorial's loss,
   * sum of squared errors / (users x movies)); "observed": mean squared error over the observed ratings.
   */
  loss: "all-columns" | "observed";
  /** Visit users in a new random order each epoch (the tutorial visits them in id order). */
  shuffle: boolean;
  /**
   * Denoising: each step hides this fraction of every user's input ratings (the rest scaled by 1/(1-p), as
   * inverted dropout does) while the loss still covers all of them, so the network learns to predict
   * ratings it does not see. 0 = off (the tutorial).
   */
  inputDropout: number;
  /** Stop after this many epochs without a better validation RMSE and keep the best epoch; 0 = never. */
  patience: number;
  seed: number;
}

/** What one epoch did. */
export interface EpochReport {
  epoch: number;
  /**
   * Training loss: with one user per step, the tutorial's printed loss (mean over users of the RMSE on
   * their own ratings); with larger batches, the RMSE over all observed ratings of the epoch.
   */
  trainLoss: number;
  /** RMSE on the validation ratings (clipped predictions), when validation ratings were given. */
  validationRmse?: number;
  seconds: number;
}

/** The outcome of training. */
export interface TrainResult {
  history: EpochReport[];
  /** Epoch whose parameters the model holds (the best on validation with early stopping, else the last). */
  bestEpoch: number;
  seconds: number;
  optimizer: Optimizer;
}

/**
 * Trains `model` on its own training ratings. With `validation`, reports validation RMSE each epoch and, with
 * patience, stops early and restores the best epoch. The test ratings never enter here.
 */
export function trainSae(
  model: SaeModel,
  config: SaeTrainConfig,
  options: { validation?: Ratings; onEpoch?: (report: EpochReport) => void } = {},
): TrainResult {
  const { network, input, targets } = model;
  const { kernels } = network.backend;
  const optimizer = new Optimizer(config.optimizer, network.params, network.grads, network.backend);
  const users: number[] = [];
  let maxRow = 0;
  for (let u = 0; u < input.nRows; u++) {
    const n = input.indptr[u + 1] - input.indptr[u];
    if (n > 0) users.push(u);
    maxRow = Math.max(maxRow, n);
  }
  const batchSize = Math.max(1, Math.min(config.batchSize, users.length));
  network.reserve(batchSize, maxRow * batchSize);
  const corrupted =
    config.inputDropout > 0 ? scratchCsr(network, batchSize, maxRow * batchSize, input.nCols) : null;
  const corruptedRows = Array.from({ length: batchSize }, (_, i) => i);
  kernels.fill(network.grads, network.grads.length, 0);
  const rng = new Rng(config.seed);
  const history: EpochReport[] = [];
  let best = { epoch: 0, rmse: Number.POSITIVE_INFINITY, params: network.params.slice() };
  let lastGood = network.params.slice();
  const started = performance.now();

  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const epochStart = performance.now();
    const order = config.shuffle ? Array.from(permutation(users.length, rng), (i) => users[i]) : users;
    let perUser = 0;
    let sse = 0;
    let nObserved = 0;
    for (let at = 0; at < order.length; at += batchSize) {
      const batch = order.slice(at, at + batchSize);
      let nnz = 0;
      for (const u of batch) nnz += input.indptr[u + 1] - input.indptr[u];
      const scale = config.loss === "all-columns" ? 1 / (batch.length * input.nCols) : 1 / nnz;
      if (config.resetGradients) kernels.fill(network.grads, network.grads.length, 0);
      const batchSse = corrupted
        ? network.accumulateGradients(
            targets,
            batch,
            scale,
            dropInputs(corrupted, input, batch, config.inputDropout, rng),
            corruptedRows.slice(0, batch.length),
          )
        : network.accumulateGradients(targets, batch, scale, input);
      optimizer.step();
      sse += batchSse;
      nObserved += nnz;
      if (batchSize === 1) perUser += Math.sqrt(batchSse / nnz);
    }
    optimizer.flushSubnormals();
    const trainLoss = batchSize === 1 ? perUser / order.length : Math.sqrt(sse / nObserved);
    if (!Number.isFinite(trainLoss) || !network.params.every(Number.isFinite)) {
      network.params.set(lastGood);
      throw new TrainingDivergedError(epoch, trainLoss);
    }
    lastGood = network.params.slice();
    const report: EpochReport = { epoch, trainLoss, seconds: (performance.now() - epochStart) / 1000 };
    if (options.validation) {
      report.validationRmse = ratingMetrics(
        model.predict(options.validation),
        options.validation.values,
      ).rmse;
      if (report.validationRmse < best.rmse) best = { epoch, rmse: report.validationRmse, params: lastGood };
    }
    history.push(report);
    options.onEpoch?.(report);
    if (config.patience > 0 && options.validation && epoch - best.epoch >= config.patience) break;
  }
  let bestEpoch = history.length;
  if (config.patience > 0 && options.validation && best.epoch > 0) {
    network.params.set(best.params);
    bestEpoch = best.epoch;
  }
  return { history, bestEpoch, seconds: (performance.now() - started) / 1000, optimizer };
}

/** An empty CSR in the network's memory for up to `rows` rows and `nnz` entries. */
function scratchCsr(network: SaeModel["network"], rows: number, nnz: number, nCols: number): Csr {
  const { arena } = network.backend;
  return { nRows: rows, nCols, indptr: arena.i32(rows + 1), indices: arena.i32(nnz), values: arena.f32(nnz) };
}

/** Fills `out` with `users`' rows of `source`, each entry kept with probability 1-p and scaled by 1/(1-p). */
function dropInputs(out: Csr, source: Csr, users: number[], p: number, rng: Rng): Csr {
  const keep = 1 / (1 - p);
  let k = 0;
  users.forEach((u, b) => {
    out.indptr[b] = k;
    for (let q = source.indptr[u]; q < source.indptr[u + 1]; q++) {
      if (rng.float() < p) continue;
      out.indices[k] = source.indices[q];
      out.values[k++] = source.values[q] * keep;
    }
  });
  out.indptr[users.length] = k;
  return out;
}
