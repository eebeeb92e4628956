import { z } from "zod";
import type { RatingScale } from "../data/datasets.js";
import type { Rng } from "../data/random.js";
import type { Csr, Ratings } from "../data/ratings.js";
import type { Backend, RowBatch } from "../kernels/index.js";
import { linearInit } from "./init.js";
import { type Model, type SavedParameters, savedTensor, type Tensor, userMeanEstimates } from "./model.js";

/** Zod schema of what fixes a Mult-DAE or Mult-VAE besides its weights. */
export const multConfigSchema = z
  .object({
    /** Mult-VAE (a Gaussian code with a KL term) or Mult-DAE (a deterministic code). */
    variational: z.boolean(),
    /** Hidden layers of the encoder before the code (the decoder mirrors them): [600] in the paper's VAE. */
    hidden: z.array(z.number().int().min(1).max(100_000)).max(8),
    /** Width of the code: 200 in the paper. */
    code: z.number().int().min(1).max(100_000),
    /** A training rating at least this is a positive (an input and a target); 0: every rating. */
    positiveFrom: z.number().finite().min(0),
  })
  .strict();
/** What fixes a Mult-DAE or Mult-VAE besides its weights. */
export type MultConfig = z.infer<typeof multConfigSchema>;

/** One layer's place in the flat parameters: weight [nIn][nOut], bias [nOut]. */
interface Layer {
  nIn: number;
  nOut: number;
  weight: Float32Array;
  bias: Float32Array;
  dWeight: Float32Array;
  dBias: Float32Array;
  tanh: boolean;
}

/** Rows encoded or trained per call. */
const BATCH = 500;

/**
 * The network of Mult-DAE and Mult-VAE (Liang, Krishnan, Hoffman and Jebara, "Variational Autoencoders for
 * Collaborative Filtering", WWW 2018): a user's binary vector of positives, L2-normalised (and, while
 * training, with dropout), through tanh layers to a code (the VAE's code is mu and log-variance, sampled
 * while training), then tanh layers back to logits over every item, trained by the multinomial
 * log-likelihood. The first layer reads only a user's positives (sparse); every other layer is dense, one
 * multiply-accumulate kernel call per batch and pass. Every weight is [nIn][nOut] (the input layer's: each
 * item's weights contiguous; PyTorch's nn.Linear stores the transpose).
 */
export class MultNetwork {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly layers: Layer[];
  /** Index of the layer whose output is the code (mu and log-variance for the VAE). */
  readonly codeLayer: number;
  private acts: Float32Array[] = [];
  private deltas: Float32Array[] = [];
  private capacity = 0;
  private logits: Float32Array = new Float32Array(0);
  /** Transposes for the backward multiply-accumulates: the largest of a layer's weights and inputs. */
  private scratchT: Float32Array = new Float32Array(0);
  private noise: Float32Array = new Float32Array(0);
  /** The VAE's sampled code ([rows][code]) and its gradient with respect to (mu, logvar) ([rows][2 code]). */
  private sampled: Float32Array = new Float32Array(0);
  private codeDelta: Float32Array = new Float32Array(0);
  private inputRows: Int32Array = new Int32Array(0);
  private targetRows: Int32Array = new Int32Array(0);
  private input?: { indptr: Int32Array; indices: Int32Array; values: Float32Array };

  constructor(
    readonly config: MultConfig,
    readonly nItems: number,
    readonly backend: Backend,
  ) {
    const { hidden, code, variational } = config;
    const encoder = [nItems, ...hidden, variational ? 2 * code : code];
    const decoder = [code, ...[...hidden].reverse(), nItems];
    const shapes: { nIn: number; nOut: number; tanh: boolean }[] = [];
    for (let l = 0; l + 1 < encoder.length; l++) {
      const last = l + 2 === encoder.length;
      shapes.push({ nIn: encoder[l], nOut: encoder[l + 1], tanh: !(last && variational) });
    }
    this.codeLayer = shapes.length - 1;
    for (let l = 0; l + 1 < decoder.length; l++)
      shapes.push({ nIn: decoder[l], nOut: decoder[l + 1], tanh: l + 2 < decoder.length });
    const total = shapes.reduce((n, s) => n + s.nIn * s.nOut + s.nOut, 0);
    this.params = backend.arena.f32(total);
    this.grads = backend.arena.f32(total);
    let at = 0;
    this.layers = shapes.map((s) => {
      const take = (n: number) => {
        const views = [this.params.subarray(at, at + n), this.grads.subarray(at, at + n)];
        at += n;
        return views;
      };
      const [weight, dWeight] = take(s.nIn * s.nOut);
      const [bias, dBias] = take(s.nOut);
      return { ...s, weight, bias, dWeight, dBias };
    });
  }

  /** PyTorch's default nn.Linear initialisation from a seed. */
  initialize(rng: Rng): void {
    for (const l of this.layers) {
      linearInit(l.weight, l.nIn, rng);
      linearInit(l.bias, l.nIn, rng);
    }
  }

  private get output(): Layer {
    return this.layers[this.layers.length - 1];
  }

  /** Work buffers for up to `rows` rows and `nnz` input entries per call. */
  private reserve(rows: number, nnz: number): void {
    const { arena } = this.backend;
    if (rows > this.capacity) {
      this.capacity = rows;
      this.acts = this.layers.slice(0, -1).map((l) => arena.f32(rows * l.nOut));
      this.deltas = this.layers.map((l) => arena.f32(rows * l.nOut));
      this.logits = arena.f32(rows * this.nItems);
      this.noise = arena.f32(rows * this.config.code);
      this.sampled = arena.f32(rows * this.config.code);
      this.codeDelta = arena.f32(rows * 2 * this.config.code);
      this.inputRows = arena.i32(rows);
      this.targetRows = arena.i32(rows);
    }
    if (!this.input || this.input.indices.length < nnz) {
      this.input = { indptr: arena.i32(this.capacity + 1), indices: arena.i32(nnz), values: arena.f32(nnz) };
    }
    if (this.input.indptr.length < rows + 1) this.input.indptr = arena.i32(rows + 1);
    const transposed = Math.max(
      ...this.layers.slice(1).map((l) => Math.max(l.nIn * l.nOut, this.capacity * l.nIn)),
    );
    if (this.scratchT.length < transposed) this.scratchT = arena.f32(transposed);
  }

  /**
   * The batch's inputs as a CSR in the network's memory: row b holds the positives of `rows[b]` in
   * `positives`, scaled to unit length; with `dropout` p and an `rng`, each one is dropped with probability
   * p and the rest scaled by 1/(1-p), after the scaling (as the paper's code does).
   */
  private inputBatch(positives: Csr, rows: ArrayLike<number>, dropout: number, rng?: Rng): RowBatch {
    let nnz = 0;
    for (let b = 0; b < rows.length; b++) nnz += positives.indptr[rows[b] + 1] - positives.indptr[rows[b]];
    this.reserve(rows.length, nnz);
    const input = this.input!;
    const keep = dropout > 0 && rng ? 1 / (1 - dropout) : 1;
    let k = 0;
    for (let b = 0; b < rows.length; b++) {
      input.indptr[b] = k;
      this.inputRows[b] = b;
      const [start, end] = [positives.indptr[rows[b]], positives.indptr[rows[b] + 1]];
      const scale = (end > start ? 1 / Math.sqrt(end - start) : 0) * keep;
      for (let q = start; q < end; q++) {
        if (keep !== 1 && rng!.float() < dropout) continue;
        input.indices[k] = positives.indices[q];
        input.values[k++] = scale;
      }
    }
    input.indptr[rows.length] = k;
    return {
      rows: this.inputRows,
      nRows: rows.length,
      indptr: input.indptr,
      indices: input.indices,
      values: input.values,
    };
  }

  /**
   * Logits over every item for `rows` of `positives` ([rows.length][nItems], a view the next call
   * overwrites). With an `rng` (training) the input is dropped out and the VAE's code sampled; without, the
   * VAE's code is its mean.
   */
  forward(positives: Csr, rows: ArrayLike<number>, dropout = 0, rng?: Rng): Float32Array {
    const { kernels } = this.backend;
    const n = rows.length;
    const batch = this.inputBatch(positives, rows, dropout, rng);
    const first = this.layers[0];
    kernels.sparseAffine(this.acts[0], batch, first.weight, first.bias, first.nOut);
    if (first.tanh) kernels.activate(this.acts[0], n * first.nOut, "tanh");
    for (let l = 1; l < this.layers.length - 1; l++) {
      const input = l - 1 === this.codeLayer ? this.code(n, rng) : this.acts[l - 1];
      this.dense(this.acts[l], this.layers[l], input, n);
    }
    const last = this.layers.length - 1;
    const hidden = last - 1 === this.codeLayer ? this.code(n, rng) : this.acts[last - 1];
    const logits = this.logits.subarray(0, n * this.nItems);
    this.dense(logits, this.output, hidden, n);
    return logits;
  }

  /** out ([n][nOut]) = act(bias + input W), W being [nIn][nOut]: one multiply-accumulate kernel call. */
  private dense(out: Float32Array, layer: Layer, input: Float32Array, n: number): void {
    for (let b = 0; b < n; b++) out.set(layer.bias, b * layer.nOut);
    const { nIn, nOut } = layer;
    this.backend.kernels.gemmAccumulate(out, input, layer.weight, n, nIn, nOut, nOut, nIn, nOut, 1);
    if (layer.tanh) this.backend.kernels.activate(out, n * nOut, "tanh");
  }

  /**
   * Backward of dense() from dOut ([n][nOut], through the activation already): dW += input^T dOut,
   * dBias += dOut's column sums, and, when `dInput` is given, dInput = dOut W^T.
   */
  private denseBackward(
    layer: Layer,
    input: Float32Array,
    dOut: Float32Array,
    n: number,
    dInput?: Float32Array,
  ) {
    const { kernels } = this.backend;
    const { nIn, nOut } = layer;
    transpose(this.scratchT, input, n, nIn);
    kernels.gemmAccumulate(layer.dWeight, this.scratchT, dOut, nIn, n, nOut, nOut, n, nOut, 1);
    kernels.addRowSums(layer.dBias, dOut, n, nOut);
    if (!dInput) return;
    transpose(this.scratchT, layer.weight, nIn, nOut);
    dInput.fill(0);
    kernels.gemmAccumulate(dInput, dOut, this.scratchT, n, nOut, nIn, nIn, nOut, nIn, 1);
  }

  /**
   * The code the decoder reads: the code layer's output for the DAE; for the VAE mu + eps * exp(logvar / 2)
   * with fresh normal noise while training (an `rng`), mu otherwise, packed as [n][code] in the noise buffer.
   */
  private code(n: number, rng?: Rng): Float32Array {
    const codeOut = this.acts[this.codeLayer];
    if (!this.config.variational) return codeOut;
    const c = this.config.code;
    const z = this.sampled.subarray(0, n * c);
    for (let b = 0; b < n; b++) {
      for (let t = 0; t < c; t++) {
        const mu = codeOut[b * 2 * c + t];
        if (!rng) {
          z[b * c + t] = mu;
          continue;
        }
        const eps = rng.normal();
        this.noise[b * c + t] = eps;
        z[b * c + t] = mu + eps * Math.exp(0.5 * codeOut[b * 2 * c + c + t]);
      }
    }
    return z;
  }

  /**
   * One training pass on `rows` of `positives`: adds to `grads` the gradient of scale * (the multinomial
   * negative log-likelihood + beta * KL) and returns that loss. Dropout `dropout` on the input.
   */
  accumulateGradients(
    positives: Csr,
    rows: ArrayLike<number>,
    scale: number,
    options: { dropout: number; rng: Rng; beta: number },
  ): number {
    const { kernels } = this.backend;
    const n = rows.length;
    const logits = this.forward(positives, rows, options.dropout, options.rng);
    for (let b = 0; b < n; b++) this.targetRows[b] = rows[b];
    const targets: RowBatch = {
      rows: this.targetRows,
      nRows: n,
      indptr: positives.indptr,
      indices: positives.indices,
      values: positives.values,
    };
    let loss = kernels.softmaxCrossEntropy(logits, logits, targets, this.nItems, scale);
    const last = this.layers.length - 1;
    let delta = logits;
    for (let l = last; l >= 0; l--) {
      const layer = this.layers[l];
      if (l === this.codeLayer && this.config.variational) {
        loss += this.codeBackward(delta, n, scale * options.beta);
        delta = this.codeDelta.subarray(0, n * layer.nOut);
      } else if (layer.tanh) {
        kernels.activateBackward(delta, delta, this.acts[l], n * layer.nOut, "tanh");
      }
      if (l === 0) {
        kernels.sparseAffineBackward(layer.dWeight, layer.dBias, this.inputBatchView(n), delta, layer.nOut);
        break;
      }
      const below = l - 1 === this.codeLayer ? this.currentCode(n) : this.acts[l - 1];
      const dInput = this.deltas[l - 1].subarray(0, n * layer.nIn);
      this.denseBackward(layer, below, delta, n, dInput);
      delta = dInput;
    }
    return loss;
  }

  /** The code the decoder read in the last forward pass. */
  private currentCode(n: number): Float32Array {
    return this.config.variational
      ? this.sampled.subarray(0, n * this.config.code)
      : this.acts[this.codeLayer];
  }

  /** The last forward pass's input batch. */
  private inputBatchView(n: number): RowBatch {
    const input = this.input!;
    return {
      rows: this.inputRows,
      nRows: n,
      indptr: input.indptr,
      indices: input.indices,
      values: input.values,
    };
  }

  /**
   * Backward through the VAE's sampling: from dL/dz (`dz`, [n][code]) to dL/d(mu, logvar) in the code
   * layer's delta ([n][2 code]), adding the KL term's gradient; returns klScale * KL, KL = 1/2 sum
   * (exp(logvar) + mu^2 - 1 - logvar).
   */
  private codeBackward(dz: Float32Array, n: number, klScale: number): number {
    const c = this.config.code;
    const codeOut = this.acts[this.codeLayer];
    const out = this.codeDelta;
    let kl = 0;
    for (let b = 0; b < n; b++) {
      for (let t = 0; t < c; t++) {
        const mu = codeOut[b * 2 * c + t];
        const logvar = codeOut[b * 2 * c + c + t];
        const variance = Math.exp(logvar);
        const g = dz[b * c + t];
        kl += 0.5 * (variance + mu * mu - 1 - logvar);
        out[b * 2 * c + t] = g + klScale * mu;
        out[b * 2 * c + c + t] =
          g * this.noise[b * c + t] * 0.5 * Math.sqrt(variance) + klScale * 0.5 * (variance - 1);
      }
    }
    return klScale * kl;
  }
}

/** out ([cols][rows]) = the transpose of a ([rows][cols]). */
function transpose(out: Float32Array, a: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
}

/** The positives of `train` (ratings of at least `positiveFrom`) as a user CSR. */
export function positivesOf(train: Ratings, positiveFrom: number): Csr {
  const csr = train.byUser();
  if (positiveFrom <= 0) return csr;
  const indptr = new Int32Array(csr.nRows + 1);
  const indices: number[] = [];
  for (let u = 0; u < csr.nRows; u++) {
    for (let k = csr.indptr[u]; k < csr.indptr[u + 1]; k++)
      if (csr.values[k] >= positiveFrom) indices.push(csr.indices[k]);
    indptr[u + 1] = indices.length;
  }
  return {
    nRows: csr.nRows,
    nCols: csr.nCols,
    indptr,
    indices: Int32Array.from(indices),
    values: new Float32Array(indices.length).fill(1),
  };
}

/**
 * A Mult-DAE or Mult-VAE recommender over its training ratings: a user's scores are the logits his
 * positives decode to (the softmax is monotone), someone new's the same from his ratings. It ranks and
 * predicts no stars (its estimates are the user's training mean).
 */
export class MultModel implements Model {
  readonly ranksOnly = true;
  readonly network: MultNetwork;
  /** The training users' positives in the network's memory: what each one's scores are read from. */
  positives!: Csr;
  train!: Ratings;
  private vectors?: Float32Array;

  constructor(
    readonly kind: string,
    readonly config: MultConfig,
    train: Ratings,
    readonly scale: RatingScale,
    backend: Backend,
  ) {
    this.network = new MultNetwork(config, train.nItems, backend);
    this.useRatings(train);
  }

  /** Reads users' positives from `train` from now on (after training on part of them). */
  useRatings(train: Ratings): void {
    this.train = train;
    this.positives = adopt(positivesOf(train, this.config.positiveFrom), this.network.backend);
    this.vectors = undefined;
  }

  /** Call after the weights change. */
  weightsChanged(): void {
    this.vectors = undefined;
  }

  estimate(pairs: Ratings): Float32Array {
    return userMeanEstimates(this.train, pairs);
  }

  scoreUsers(users: ArrayLike<number>): Float32Array {
    const nItems = this.train.nItems;
    const out = new Float32Array(users.length * nItems);
    const list = Array.from(users);
    for (let at = 0; at < users.length; at += BATCH) {
      const chunk = list.slice(at, at + BATCH);
      out.set(this.network.forward(this.positives, chunk), at * nItems);
    }
    return out;
  }

  foldIn(items: ArrayLike<number>, values: ArrayLike<number>): Float32Array {
    if (items.length === 0) throw new Error("no ratings to recommend from");
    const liked = Array.from(items)
      .filter((_, k) => values[k] >= this.config.positiveFrom)
      .sort((a, b) => a - b);
    const csr = adopt(
      {
        nRows: 1,
        nCols: this.train.nItems,
        indptr: Int32Array.of(0, liked.length),
        indices: Int32Array.from(liked),
        values: new Float32Array(liked.length).fill(1),
      },
      this.network.backend,
    );
    return this.network.forward(csr, [0]).slice();
  }

  /** Each item's column of the output layer: how the code decodes to it. */
  itemVectors() {
    const out = this.network.layers[this.network.layers.length - 1];
    if (!this.vectors) {
      this.vectors = new Float32Array(out.weight.length);
      transpose(this.vectors, out.weight, out.nIn, out.nOut);
    }
    return { vectors: this.vectors, size: out.nIn };
  }

  describe(): string {
    const { hidden, code, variational, positiveFrom } = this.config;
    const sizes = [this.train.nItems, ...hidden, code, ...[...hidden].reverse(), this.train.nItems];
    return (
      `${this.kind}: ${variational ? "variational" : "denoising"} ${sizes.join("-")} tanh, multinomial ` +
      `likelihood, positives ${positiveFrom > 0 ? `ratings >= ${positiveFrom}` : "every rating"}`
    );
  }

  save(): SavedParameters {
    const tensors: Record<string, Tensor> = {};
    this.network.layers.forEach((l, i) => {
      tensors[`layer${i}.weight`] = { dtype: "F32", shape: [l.weight.length], data: l.weight.slice() };
      tensors[`layer${i}.bias`] = { dtype: "F32", shape: [l.nOut], data: l.bias.slice() };
    });
    return { config: this.config, tensors };
  }

  /** A model of `kind` from what save() wrote. */
  static load(kind: string, saved: SavedParameters, train: Ratings, scale: RatingScale, backend: Backend) {
    const config = multConfigSchema.parse(saved.config);
    const model = new MultModel(kind, config, train, scale, backend);
    model.network.layers.forEach((l, i) => {
      l.weight.set(savedTensor(saved, `layer${i}.weight`, "F32", l.weight.length));
      l.bias.set(savedTensor(saved, `layer${i}.bias`, "F32", l.nOut));
    });
    return model;
  }
}

/** A CSR copied into the backend's memory. */
function adopt(csr: Csr, backend: Backend): Csr {
  const { arena } = backend;
  const indptr = arena.i32(csr.indptr.length);
  const indices = arena.i32(Math.max(1, csr.indices.length));
  const values = arena.f32(Math.max(1, csr.values.length));
  indptr.set(csr.indptr);
  indices.set(csr.indices);
  values.set(csr.values);
  return { ...csr, indptr, indices, values };
}
