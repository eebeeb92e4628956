import { z } from "zod";
import { Rng } from "../data/random.js";
import type { Ratings } from "../data/ratings.js";
import { validationSplit } from "../data/splits.js";
import type { Backend } from "../kernels/index.js";
import type { BatchColumns } from "../model/autoencoder.js";
import { AutoencoderModel } from "../model/autoencoder-model.js";
import { Blend } from "../model/blend.js";
import { convolveRatingsBackward, GLOBAL_KERNEL_SIZE } from "../model/global-kernel.js";
import { type EpochReport, type FitOutcome, type Model, predict, type TrainingSet } from "../model/model.js";
import { ratingMetrics } from "../model/rating-metrics.js";
import { TrainingDivergedError } from "./errors.js";
import { Lbfgs, lbfgsDefaults } from "./lbfgs.js";

/** How to train GLocal-K (Han et al., CIKM 2021) or its local stage alone (kernelNet, Muller et al. 2018). */
export const glocalSettingsSchema = z
  .object({
    /** Hidden layers (sigmoid) of the item-based autoencoder; the output layer is identity. */
    hidden: z.array(z.number().int().min(1).max(100_000)).min(1).max(8),
    /** Size of the embeddings whose distances give the local kernels. */
    kernelDims: z.number().int().min(1).max(64),
    /** L2 penalty on the weights: lambda/2 |W|^2 per layer (lambda_2 in the paper). */
    lambda: z.number().finite().min(0).max(1e9),
    /** Penalty on the local kernels: lambdaSparse/2 |k|^2 per layer (lambda_s), which drives them to 0. */
    lambdaSparse: z.number().finite().min(0).max(1e9),
    /** Epochs of pre-training with the local kernels alone. */
    pretrainEpochs: z.number().int().min(1).max(10_000),
    /** Epochs of fine-tuning on the ratings convolved with the global kernel; 0 = kernelNet. */
    finetuneEpochs: z.number().int().min(0).max(10_000),
    /** L-BFGS iterations per epoch; every epoch starts a fresh L-BFGS, as the authors' L-BFGS-B calls do. */
    iterations: z.number().int().min(1).max(1000),
    /** Each epoch's first L-BFGS step (see LbfgsConfig.firstStep). */
    firstStep: z.enum(["l1", "l2"]),
    /** Scale of the global kernel's dot product (dot_scale). */
    dotScale: z.number().finite().positive().max(1e6),
    /** Fraction of the training ratings held out to choose the epoch; 0 = keep the last epoch. */
    validation: z.number().min(0).max(0.5),
    /** Stop after this many epochs without a better validation RMSE; 0 = never. */
    patience: z.number().int().min(0),
    /** Train again on every training rating for the epochs validation chose. */
    refit: z.boolean(),
    /**
     * Fits whose predictions are averaged, each from its own initialisation (seeds seed, seed + 1, ...) on
     * the same validation ratings: one fit's test RMSE moves with the seed by several thousandths.
     */
    runs: z.number().int().min(1).max(16).default(1),
    seed: z.number().int().min(0),
  })
  .strict();
/** How to train GLocal-K or kernelNet. */
export type GlocalSettings = z.infer<typeof glocalSettingsSchema>;

/** One kernelised layer's trainable tensors (views into the flat parameters) and its kernel. */
interface KernelLayer {
  rows: number;
  cols: number;
  /** Raw weights, laid out as the network's weight tensor; bias; row embeddings [rows][d]; column [d][cols]. */
  w: Float32Array;
  bias: Float32Array;
  a: Float32Array;
  bT: Float32Array;
  gw: Float32Array;
  gBias: Float32Array;
  ga: Float32Array;
  gbT: Float32Array;
  /** The local kernel of the last evaluation. */
  k: Float32Array;
}

/** Values this many standard deviations out are drawn again (TensorFlow's truncated_normal). */
const TRUNCATE = 2;

function truncatedNormal(out: Float32Array, std: number, rng: Rng): void {
  for (let i = 0; i < out.length; i++) {
    let x = rng.normal();
    while (Math.abs(x) > TRUNCATE) x = rng.normal();
    out[i] = x * std;
  }
}

/** TensorFlow's default (Glorot uniform) initialiser: U(-sqrt(6 / (fanIn + fanOut)), +sqrt(...)). */
function glorotUniform(out: Float32Array, fanIn: number, fanOut: number, rng: Rng): void {
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.float() - 1) * bound;
}

/**
 * GLocal-K's trainable parameters over an item-based autoencoder: per layer raw weights W, bias and the
 * embeddings of the local kernel, whose product W * k becomes the network's weights at every evaluation;
 * and the global kernel's (nItems x 9) matrix. All live in one flat vector for L-BFGS.
 */
export class GlocalParameters {
  readonly theta: Float32Array;
  readonly grad: Float32Array;
  readonly layers: KernelLayer[];
  /** The global kernel's matrix [nItems][9] and its gradient. */
  readonly conv: Float32Array;
  readonly gConv: Float32Array;
  /** Fraction of the local kernels above 0 at the last evaluation. */
  density = 1;

  constructor(
    readonly model: AutoencoderModel,
    readonly dims: number,
  ) {
    const { network } = model;
    const { arena } = network.backend;
    const shapes = network.tensors.filter((t) => t.isWeight).map((t) => t.shape as [number, number]);
    const nItems = model.targets.nRows;
    const taps = GLOBAL_KERNEL_SIZE * GLOBAL_KERNEL_SIZE;
    let total = nItems * taps;
    shapes.forEach(([rows, cols], l) => {
      total += rows * cols + network.tensors[2 * l + 1].data.length + (rows + cols) * dims;
    });
    this.theta = arena.f32(total);
    this.grad = arena.f32(total);
    let at = 0;
    const take = (n: number) => {
      const views = [this.theta.subarray(at, at + n), this.grad.subarray(at, at + n)] as const;
      at += n;
      return views;
    };
    this.layers = shapes.map(([rows, cols], l) => {
      const [w, gw] = take(rows * cols);
      const [bias, gBias] = take(network.tensors[2 * l + 1].data.length);
      const [a, ga] = take(rows * dims);
      const [bT, gbT] = take(dims * cols);
      return { rows, cols, w, bias, a, bT, gw, gBias, ga, gbT, k: arena.f32(rows * cols) };
    });
    [this.conv, this.gConv] = take(nItems * taps);
  }

  /** The authors' initialisation: Glorot uniform weights and biases, embeddings and kernel matrix ~ N(0, 1e-3 / 0.1) truncated. */
  initialize(seed: number): void {
    const rng = new Rng(seed);
    for (const layer of this.layers) {
      // The network's first layer is [nIn][h]; later ones [out][in]: fan-in and fan-out are rows and columns either way.
      glorotUniform(layer.w, layer.rows, layer.cols, rng);
      glorotUniform(layer.bias, layer.bias.length, layer.bias.length, rng);
      truncatedNormal(layer.a, 1e-3, rng);
      truncatedNormal(layer.bT, 1e-3, rng);
    }
    truncatedNormal(this.conv, 0.1, rng);
  }

  /** Sets the network's weights to W * k and its biases from `theta`, and `density`. */
  applyKernels(): void {
    const { network } = this.model;
    const { kernels } = network.backend;
    let nonzero = 0;
    let size = 0;
    this.layers.forEach((layer, l) => {
      const eff = network.tensors[2 * l].data;
      nonzero += kernels.localKernel(
        eff,
        layer.k,
        layer.w,
        layer.a,
        layer.bT,
        layer.rows,
        layer.cols,
        this.dims,
      );
      size += layer.rows * layer.cols;
      network.tensors[2 * l + 1].data.set(layer.bias);
    });
    this.density = nonzero / size;
    this.model.weightsChanged();
  }

  /**
   * Moves the network's gradients (with respect to W * k and the biases) onto `grad`, adding the penalties;
   * returns lambda/2 |W|^2 + lambdaSparse/2 |k|^2 over the layers.
   */
  backpropagateKernels(lambda: number, lambdaSparse: number): number {
    const { network } = this.model;
    const { kernels } = network.backend;
    let penalty = 0;
    this.layers.forEach((layer, l) => {
      const { rows, cols, w, k, a, bT } = layer;
      const gEff = network.gradTensors[2 * l];
      penalty += kernels.localKernelBackward(
        layer.gw,
        layer.ga,
        layer.gbT,
        gEff,
        w,
        k,
        a,
        bT,
        rows,
        cols,
        this.dims,
        lambda,
        lambdaSparse,
      );
      layer.gBias.set(network.gradTensors[2 * l + 1]);
    });
    return penalty;
  }
}

/** Rows (movies) per kernel call: contiguous blocks, so that a block's entries are contiguous in CSR order. */
const CHUNK = 256;

/**
 * The objective of one stage: 1/2 the sum of squared errors on the training ratings plus the penalties,
 * with its gradient. Fine-tuning adds the global kernel: the network's pooled output over the plain
 * ratings gives 9 numbers through the kernel matrix, and the encoder reads the ratings convolved with them.
 */
export class GlocalObjective {
  private readonly chunks: number[][];
  private readonly plainColumns: (BatchColumns | undefined)[];
  private readonly nObserved: number;
  /** The last evaluation's sum of squared errors on the training ratings. */
  sse = 0;
  /** Per chunk, the hidden layers' activations over the plain ratings (the pooled output's path). */
  private readonly plainActivations: Float32Array[][] = [];
  private dCode?: Float32Array;
  private dInput?: Float32Array;
  /** Per hidden unit: the output layer's weights summed over users, and the pooled gradient's weighting. */
  private columnSums?: Float32Array;
  private weighted?: Float32Array;
  /** The global kernel of the last fine-tuning evaluation. */
  readonly kernel = new Float64Array(GLOBAL_KERNEL_SIZE * GLOBAL_KERNEL_SIZE);
  private readonly pooled: Float64Array;

  constructor(
    readonly params: GlocalParameters,
    readonly settings: GlocalSettings,
  ) {
    const { model } = params;
    const nItems = model.targets.nRows;
    this.chunks = [];
    for (let at = 0; at < nItems; at += CHUNK)
      this.chunks.push(Array.from({ length: Math.min(CHUNK, nItems - at) }, (_, b) => at + b));
    const nnz = (c: number[]) => model.targets.indptr[c[c.length - 1] + 1] - model.targets.indptr[c[0]];
    model.network.reserve(CHUNK, Math.max(...this.chunks.map(nnz)));
    this.plainColumns = this.chunks.map((c) => model.network.keepColumns(model.targets, c));
    this.nObserved = model.targets.indptr[nItems];
    this.pooled = new Float64Array(nItems);
  }

  /** The training RMSE of the last evaluation. */
  get trainRmse(): number {
    return Math.sqrt(this.sse / this.nObserved);
  }

  /** The value at `x` (a point of params.theta's layout), its gradient into `grad`. */
  evaluate(x: Float32Array, grad: Float32Array, finetune: boolean): number {
    const { params, settings } = this;
    const { model } = params;
    const { network } = model;
    params.theta.set(x);
    params.applyKernels();
    network.backend.kernels.fill(network.grads, network.grads.length, 0);
    params.gConv.fill(0);
    let sse = 0;
    if (finetune) sse = this.finetunePass();
    else {
      this.chunks.forEach((c, i) => {
        sse += network.accumulateGradients(model.targets, c, 0.5, { columns: this.plainColumns[i] });
      });
    }
    const penalty = params.backpropagateKernels(settings.lambda, settings.lambdaSparse);
    grad.set(params.grad);
    this.sse = sse;
    return 0.5 * sse + penalty;
  }

  /**
   * The global kernel from the current weights (see globalKernel), its convolution of the ratings as the
   * encoder's input, the loss through it, and the gradient back through the kernel to every parameter.
   */
  private finetunePass(): number {
    const { params, settings } = this;
    const { model } = params;
    const { network } = model;
    const h = network.sizes[network.nLayers - 1];
    const nItems = model.targets.nRows;
    const taps = this.kernel.length;
    this.dCode ??= network.backend.arena.f32(CHUNK * h);
    const { dCode } = this;
    const columnSums = this.outputColumnSums();
    this.poolPlainOutputs(columnSums);
    this.kernel.fill(0);
    for (let m = 0; m < nItems; m++)
      for (let c = 0; c < taps; c++)
        this.kernel[c] += settings.dotScale * this.pooled[m] * params.conv[m * taps + c];
    model.useGlobalKernel(this.kernel);
    const input = model.input;
    if (!this.dInput || this.dInput.length < input.indices.length)
      this.dInput = network.backend.arena.f32(input.indices.length);
    const dInput = this.dInput;
    let sse = 0;
    for (const c of this.chunks) {
      sse += network.accumulateGradients(model.targets, c, 0.5, {
        input,
        inputGradient: dInput.subarray(input.indptr[c[0]]),
      });
    }
    const dKernel = new Float64Array(taps);
    convolveRatingsBackward(dKernel, input, dInput, model.targets);
    // The kernel is sum_m pooled[m] * conv[m] * dotScale: back to the matrix and to each movie's pooled output.
    const dPooled = new Float64Array(nItems);
    for (let m = 0; m < nItems; m++) {
      let s = 0;
      for (let c = 0; c < taps; c++) {
        params.gConv[m * taps + c] = settings.dotScale * this.pooled[m] * dKernel[c];
        s += params.conv[m * taps + c] * dKernel[c];
      }
      dPooled[m] = (settings.dotScale * s) / network.shape.nInputs;
    }
    // pooled[m] = (code_m . columnSums + sum of output biases) / nUsers: into the output layer...
    const last = network.nLayers - 1;
    const [gOut, gOutBias] = [network.gradTensors[2 * last], network.gradTensors[2 * last + 1]];
    this.weighted ??= network.backend.arena.f32(h);
    const weighted = this.weighted;
    weighted.fill(0);
    let biasGrad = 0;
    this.chunks.forEach((c, i) => {
      const code = this.plainActivations[i][network.nLayers - 2];
      c.forEach((m, b) => {
        biasGrad += dPooled[m];
        network.backend.kernels.addScaled(weighted, code.subarray(b * h), dPooled[m], h);
      });
    });
    for (let u = 0; u < network.shape.nInputs; u++) {
      network.backend.kernels.addScaled(gOut.subarray(u * h, (u + 1) * h), weighted, 1, h);
      gOutBias[u] += biasGrad;
    }
    // ...and into the hidden layers that read the plain ratings.
    this.chunks.forEach((c, i) => {
      network.restoreActivations(this.plainActivations[i]);
      c.forEach((m, b) => {
        for (let j = 0; j < h; j++) dCode[b * h + j] = dPooled[m] * columnSums[j];
      });
      network.backpropagateCode(dCode, model.targets, c);
    });
    return sse;
  }

  /** Sum over the users of the output layer's weights, per hidden unit. */
  private outputColumnSums(): Float32Array {
    const { network } = this.params.model;
    const last = network.nLayers - 1;
    const h = network.sizes[last];
    const w = network.tensors[2 * last].data;
    this.columnSums ??= network.backend.arena.f32(h);
    const sums = this.columnSums;
    sums.fill(0);
    for (let u = 0; u < network.shape.nInputs; u++)
      network.backend.kernels.addScaled(sums, w.subarray(u * h), 1, h);
    return sums;
  }

  /** pooled[m]: movie m's network output over the plain ratings averaged over every user; activations kept. */
  private poolPlainOutputs(columnSums: Float32Array): void {
    const { model } = this.params;
    const { network } = model;
    const last = network.nLayers - 1;
    const h = network.sizes[last];
    const bias = network.tensors[2 * last + 1].data;
    let biasSum = 0;
    for (let u = 0; u < bias.length; u++) biasSum += bias[u];
    this.chunks.forEach((c, i) => {
      const code = network.encode(model.targets, c, 0, undefined, this.plainColumns[i]?.input);
      this.plainActivations[i] = network.saveActivations(c.length, this.plainActivations[i]);
      c.forEach((m, b) => {
        const s = network.backend.kernels.dotProduct(code.subarray(b * h, (b + 1) * h), columnSums, h);
        this.pooled[m] = (s + biasSum) / network.shape.nInputs;
      });
    });
  }
}

/** A training run's outcome: per-epoch reports, and the epoch whose parameters the model holds. */
interface GlocalRun {
  history: EpochReport[];
  bestEpoch: number;
  seconds: number;
  stopped?: string;
}

/**
 * Trains GLocal-K: `pretrainEpochs` epochs on the local kernels, then `finetuneEpochs` with the global
 * kernel, each epoch a fresh L-BFGS of `iterations` iterations. With validation ratings, keeps the epoch with
 * the best validation RMSE (among the fine-tuning epochs when there are any).
 */
function trainGlocal(
  model: AutoencoderModel,
  settings: GlocalSettings,
  epochs: { pretrain: number; finetune: number },
  options: { validation?: Ratings; onEpoch?: (report: EpochReport) => void; phase?: string },
): GlocalRun {
  const params = new GlocalParameters(model, settings.kernelDims);
  params.initialize(settings.seed);
  const objective = new GlocalObjective(params, settings);
  const { backend } = model.network;
  const total = epochs.pretrain + epochs.finetune;
  const history: EpochReport[] = [];
  const best = { epoch: 0, rmse: Number.POSITIVE_INFINITY, theta: null as Float32Array | null };
  const started = performance.now();
  let finetune = false;
  const lbfgs = new Lbfgs(
    { ...lbfgsDefaults(), firstStep: settings.firstStep },
    params.theta,
    (x, g) => objective.evaluate(x, g, finetune),
    backend,
  );
  const point = lbfgs.x;
  let stopped: string | undefined;
  for (let epoch = 1; epoch <= total; epoch++) {
    const epochStart = performance.now();
    const stageChanged = finetune !== epoch > epochs.pretrain;
    finetune = epoch > epochs.pretrain;
    lbfgs.restart(!stageChanged);
    const before = lbfgs.evaluations;
    let status = "continue";
    for (let i = 0; i < settings.iterations && status === "continue"; i++) status = lbfgs.step();
    // L-BFGS evaluates its accepted point last, so the model already holds it.
    if (!Number.isFinite(lbfgs.value)) throw new TrainingDivergedError(epoch, lbfgs.value);
    const report: EpochReport = {
      epoch,
      trainLoss: objective.trainRmse,
      seconds: (performance.now() - epochStart) / 1000,
      evaluations: lbfgs.evaluations - before,
    };
    if (options.phase) report.phase = options.phase;
    if (epochs.pretrain > 0 && epochs.finetune > 0) report.stage = finetune ? "fine-tuning" : "pre-training";
    if (options.validation) {
      report.validationRmse = ratingMetrics(
        predict(model, options.validation),
        options.validation.values,
      ).rmse;
      const eligible = finetune || epochs.finetune === 0;
      if (eligible && report.validationRmse < best.rmse) {
        best.epoch = epoch;
        best.rmse = report.validationRmse;
        best.theta ??= new Float32Array(point.length);
        best.theta.set(point);
      }
    }
    history.push(report);
    options.onEpoch?.({ ...report, epochs: total });
    if (settings.patience > 0 && best.epoch > 0 && epoch - best.epoch >= settings.patience) {
      stopped = `no better validation RMSE for ${settings.patience} epochs`;
      break;
    }
  }
  let bestEpoch = history.length;
  if (best.theta) {
    objective.evaluate(best.theta, params.grad, best.epoch > epochs.pretrain);
    bestEpoch = best.epoch;
  }
  return { history, bestEpoch, seconds: (performance.now() - started) / 1000, stopped };
}

/** The item-based network GLocal-K trains: hidden sigmoid layers, identity output, plain ratings in. */
function glocalModel(
  kind: string,
  train: Ratings,
  data: TrainingSet,
  settings: GlocalSettings,
  backend: Backend,
) {
  const config = {
    orientation: "item" as const,
    hidden: settings.hidden,
    activation: "sigmoid" as const,
    outputActivation: "identity" as const,
    inputScaling: "none" as const,
  };
  return new AutoencoderModel(kind, config, train, data.scale, backend, Math.max(1, settings.lambda / 2));
}

/**
 * Fits GLocal-K (or kernelNet, with no fine-tuning epochs) on `data.train`: holds out `settings.validation`
 * of it to choose the epoch, then with `settings.refit` trains again on every training rating for as many
 * epochs; otherwise the chosen model reads every training rating. With `settings.runs` above 1, fits that
 * many times from successive seeds on the same validation ratings and averages them (a Blend of equal
 * weights, saved as `kind`). The test ratings are not touched.
 */
export function fitGlocal(
  kind: string,
  data: TrainingSet,
  settings: GlocalSettings,
  backend: Backend,
  onEpoch?: (report: EpochReport) => void,
): FitOutcome<Model> {
  if (settings.runs === 1) return fitOnce(kind, data, settings, settings.seed, backend, onEpoch);
  const runs = Array.from({ length: settings.runs }, (_, r) => {
    const label = `run ${r + 1}/${settings.runs}`;
    const report =
      onEpoch &&
      ((e: EpochReport) =>
        onEpoch({ ...e, phase: r === 0 ? e.phase : `${label}${e.phase ? ` ${e.phase}` : ""}` }));
    return fitOnce(kind, data, settings, settings.seed + r, backend, report);
  });
  const [first] = runs;
  const sum = (f: (o: FitOutcome<AutoencoderModel>) => number) => runs.reduce((a, o) => a + f(o), 0);
  let validationPredictions: Float32Array | undefined;
  if (first.validation) {
    validationPredictions = new Float32Array(first.validation.size);
    for (const run of runs) {
      const p = run.validationPredictions ?? [];
      for (let k = 0; k < p.length; k++) validationPredictions[k] += p[k] / runs.length;
    }
  }
  return {
    ...first,
    model: Blend.average(
      runs.map((o) => o.model),
      data.scale,
      kind,
    ),
    seconds: sum((o) => o.seconds),
    refitSeconds: settings.refit ? sum((o) => o.refitSeconds ?? 0) : undefined,
    validationPredictions,
  };
}

/** One fit of fitGlocal, its network initialised from `initSeed` (the validation split from settings.seed). */
function fitOnce(
  kind: string,
  data: TrainingSet,
  settings: GlocalSettings,
  initSeed: number,
  backend: Backend,
  onEpoch?: (report: EpochReport) => void,
): FitOutcome<AutoencoderModel> {
  const { fit, validation }: { fit: Ratings; validation?: Ratings } =
    settings.validation > 0
      ? validationSplit(data.train, settings.validation, settings.seed)
      : { fit: data.train, validation: undefined };
  const epochs = { pretrain: settings.pretrainEpochs, finetune: settings.finetuneEpochs };
  const init = { ...settings, seed: initSeed };
  const model = glocalModel(kind, fit, data, settings, backend);
  const run = trainGlocal(model, init, epochs, { validation, onEpoch });
  const outcome = { history: run.history, bestEpoch: run.bestEpoch, stopped: run.stopped, fit, validation };
  if (!validation) return { ...outcome, model, seconds: run.seconds };
  const validationPredictions = predict(model, validation);
  if (!settings.refit) {
    model.useRatings(data.train);
    return { ...outcome, model, seconds: run.seconds, validationPredictions };
  }
  const full = glocalModel(kind, data.train, data, settings, backend);
  const chosen = {
    pretrain: Math.min(epochs.pretrain, run.bestEpoch),
    finetune: Math.max(0, run.bestEpoch - epochs.pretrain),
  };
  const again = trainGlocal(full, { ...init, patience: 0 }, chosen, {
    onEpoch: onEpoch && ((report) => onEpoch({ ...report, phase: "refit" })),
  });
  return {
    ...outcome,
    model: full,
    seconds: run.seconds + again.seconds,
    refitSeconds: again.seconds,
    validationPredictions,
  };
}
