import { z } from "zod";
import type { RatingScale } from "../data/datasets.js";
import { type Csr, Ratings } from "../data/ratings.js";
import { transposeInto } from "../kernels/dense-layer.js";
import { ACTIVATIONS, type Activation, type Backend } from "../kernels/index.js";
import { AutoencoderNetwork } from "./autoencoder.js";
import { choleskySolve } from "./cholesky.js";
import { convolutionPattern, convolveRatings } from "./global-kernel.js";
import type { Model, SavedParameters, Tensor } from "./model.js";
import { savedTensor } from "./model.js";

const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as [Activation, ...Activation[]];

/** Zod schema of AutoencoderConfig: what fixes an autoencoder model's function, besides its weights. */
export const autoencoderConfigSchema = z
  .object({
    /**
     * What the autoencoder reconstructs: each user's vector of movie ratings ("user": the tutorial's SAE,
     * U-AutoRec, the deep autoencoder) or each movie's vector of user ratings ("item": I-AutoRec).
     */
    orientation: z.enum(["user", "item"]),
    hidden: z.array(z.number().int().min(1).max(100_000)).min(1).max(16),
    activation: z.enum(ACTIVATION_NAMES),
    outputActivation: z.enum(ACTIVATION_NAMES),
    /**
     * "none" feeds ratings as they are (the tutorial, AutoRec); "inverse-sqrt-count" divides each row by the
     * square root of its number of ratings, so heavy and light raters reach the first layer on one scale.
     */
    inputScaling: z.enum(["none", "inverse-sqrt-count"]),
    /**
     * Added to every observed rating the encoder reads (before scaling); absent or 0 feeds the ratings as
     * they are. Unobserved inputs stay 0, so an offset well above the rating scale lets the first layer weigh
     * "rated this movie" apart from the rating given (the targets are never offset).
     */
    inputOffset: z.number().finite().min(0).max(1e6).optional(),
    /** Tie each decoder layer to its mirror encoder layer (see AutoencoderShape.tied). */
    tied: z.boolean().optional(),
    /**
     * GLocal-K: the encoder reads max(0, conv(ratings, globalKernel)), the training ratings (rows as the
     * model's, in index order) convolved with this 3 x 3 kernel, row-major (see convolveRatings).
     */
    globalKernel: z.array(z.number().finite()).length(9).optional(),
  })
  .strict();

/** Everything that fixes an autoencoder model's function, besides its weights. */
export type AutoencoderConfig = z.infer<typeof autoencoderConfigSchema>;
/** How the encoder sees a row's ratings. */
export type InputScaling = AutoencoderConfig["inputScaling"];
/** Which vectors the autoencoder reconstructs: users' or movies'. */
export type Orientation = AutoencoderConfig["orientation"];

/** What an autoencoder model file's config holds: the network's config and the fold-in penalty. */
export const savedAutoencoderSchema = autoencoderConfigSchema.extend({
  foldInRidge: z.number().finite().positive().max(1e12),
});

/** Users or movies encoded per kernel call when predicting. */
const PREDICT_BATCH = 256;

/** The ratings with users and movies swapped (rows become movies). */
export function transposeRatings(r: Ratings): Ratings {
  return new Ratings(r.items, r.users, r.values, r.nItems, r.nUsers);
}

/** Each row divided by the square root of its number of entries. */
function scaleRows(csr: Csr): Csr {
  const values = csr.values.slice();
  for (let r = 0; r < csr.nRows; r++) {
    const [start, end] = [csr.indptr[r], csr.indptr[r + 1]];
    const f = 1 / Math.sqrt(Math.max(1, end - start));
    for (let k = start; k < end; k++) values[k] *= f;
  }
  return { ...csr, values };
}

/**
 * An autoencoder recommender with the training ratings it reads rows from. Internally rows are users or
 * movies as `config.orientation` says; users and movies with no training ratings get the fallback of
 * predict() (model.ts).
 */
export class AutoencoderModel implements Model {
  readonly network: AutoencoderNetwork;
  /** The training ratings by row, in the network's memory: the reconstruction targets. */
  targets!: Csr;
  /** What the encoder reads: `targets` offset and scaled as `config.inputOffset` and `inputScaling` say. */
  input!: Csr;
  /** The training ratings (users x movies). */
  train!: Ratings;
  private itemCodes?: Float32Array;
  private itemScores?: Float32Array;
  private itemBias?: Float32Array;
  private newUser?: Csr;
  private readonly adopted = new WeakMap<Csr, Csr>();
  private readonly orientedCsr = new WeakMap<Ratings, Csr>();
  private foldWeights?: Float32Array;

  constructor(
    /** The registry name this model was trained as (sae, autorec-i, ...). */
    readonly kind: string,
    public config: AutoencoderConfig,
    train: Ratings,
    readonly scale: RatingScale,
    backend: Backend,
    /** Ridge penalty of the item-based fold-in (see foldIn); the kinds use their lambda / 2. */
    readonly foldInRidge = 1,
  ) {
    const nInputs = config.orientation === "user" ? train.nItems : train.nUsers;
    this.network = new AutoencoderNetwork(
      {
        nInputs,
        hidden: config.hidden,
        activation: config.activation,
        outputActivation: config.outputActivation,
        tied: config.tied,
      },
      backend,
    );
    this.useRatings(train);
  }

  /** `r` with rows as this model's rows. */
  private oriented(r: Ratings): Ratings {
    return this.config.orientation === "user" ? r : transposeRatings(r);
  }

  /**
   * Reads rows from `ratings` from now on (same index space). After training on part of the training
   * ratings (the rest held out for validation), this lets predictions use everything known.
   */
  useRatings(ratings: Ratings): void {
    this.train = ratings;
    this.targets = this.network.adopt(this.oriented(ratings).byUser());
    this.input = this.encoderInput();
    this.itemCodes = undefined;
  }

  /**
   * Makes the encoder read the training ratings convolved with `kernel` (GLocal-K's global kernel, 9
   * numbers), on the same entries when it did already, so that a trainer can move the kernel every step.
   */
  useGlobalKernel(kernel: ArrayLike<number>): void {
    const had = this.config.globalKernel;
    this.config = { ...this.config, globalKernel: Array.from(kernel) };
    if (had) convolveRatings(this.input, this.targets, kernel);
    else this.input = this.encoderInput();
    this.itemCodes = undefined;
  }

  /** The encoder's view of the ratings: `targets` itself when the config changes nothing. */
  private encoderInput(): Csr {
    if (this.config.globalKernel) {
      const input = this.network.adopt(convolutionPattern(this.targets));
      convolveRatings(input, this.targets, this.config.globalKernel);
      return input;
    }
    const shift = this.config.inputOffset ?? 0;
    if (shift === 0 && this.config.inputScaling === "none") return this.targets;
    const shifted = { ...this.targets, values: this.targets.values.map((v) => v + shift) };
    const { values } = this.config.inputScaling === "none" ? shifted : scaleRows(shifted);
    // The same entries as the targets with other values: only the values need memory of their own.
    const adopted = this.network.backend.arena.f32(values.length);
    adopted.set(values);
    return { ...this.targets, values: adopted };
  }

  /** Call after changing the weights, so that cached codes are recomputed. */
  weightsChanged(): void {
    this.itemCodes = undefined;
  }

  /**
   * Raw network outputs (unclipped, no fallback) at every entry of `targets` (rows oriented as the model's,
   * adopted or not), in CSR order, each row's input being its training ratings.
   */
  rawOutputs(targets: Csr): Float32Array {
    const out = new Float32Array(targets.indices.length);
    // Copied into the network's memory once per CSR: validation asks for the same ratings every epoch.
    let adopted = this.adopted.get(targets);
    if (!adopted) {
      adopted = this.network.adopt(targets);
      this.adopted.set(targets, adopted);
    }
    const rows: number[] = [];
    const flush = () => {
      if (rows.length === 0) return;
      const start = targets.indptr[rows[0]];
      const nnz = targets.indptr[rows[rows.length - 1] + 1] - start;
      this.network.encode(this.input, rows);
      out.set(this.network.decodeAt(adopted, rows, nnz), start);
      rows.length = 0;
    };
    for (let r = 0; r < targets.nRows; r++) {
      if (targets.indptr[r + 1] === targets.indptr[r]) continue;
      if (rows.length > 0 && rows[rows.length - 1] !== r - 1) flush();
      rows.push(r);
      if (rows.length === PREDICT_BATCH) flush();
    }
    flush();
    return out;
  }

  /** Raw outputs for `pairs` (users x movies) in the CSR order of the pairs oriented as the model's rows. */
  rawOutputsFor(pairs: Ratings): { csr: Csr; raw: Float32Array } {
    let csr = this.orientedCsr.get(pairs);
    if (!csr) {
      csr = this.oriented(pairs).byUser();
      this.orientedCsr.set(pairs, csr);
    }
    return { csr, raw: this.rawOutputs(csr) };
  }

  estimate(pairs: Ratings): Float32Array {
    const { csr, raw } = this.rawOutputsFor(pairs);
    const byUser = this.config.orientation === "user";
    const out = new Float32Array(pairs.size);
    for (let k = 0; k < pairs.size; k++) {
      const [u, i] = [pairs.users[k], pairs.items[k]];
      out[k] = raw[csrPosition(csr, byUser ? u : i, byUser ? i : u)];
    }
    return out;
  }

  /**
   * User-based: each user's ratings encoded and decoded at every movie. Item-based: a user's scores are his
   * output unit's weights against every movie's code.
   */
  scoreUsers(users: ArrayLike<number>): Float32Array {
    const nItems = this.train.nItems;
    const out = new Float32Array(users.length * nItems);
    const list = Array.from(users);
    for (let at = 0; at < users.length; at += PREDICT_BATCH) {
      const chunk = list.slice(at, at + PREDICT_BATCH);
      if (this.config.orientation === "user") {
        this.network.encode(this.input, chunk);
        out.set(this.network.decodeDense(chunk.length), at * nItems);
        continue;
      }
      const { network } = this;
      const last = network.nLayers - 1;
      const h = network.sizes[last];
      const [weights, bias] = [network.tensors[2 * last].data, network.tensors[2 * last + 1].data];
      chunk.forEach((u, b) => {
        out.set(this.scoresFrom(weights.subarray(u * h, (u + 1) * h), bias[u]), (at + b) * nItems);
      });
    }
    return out;
  }

  /**
   * User-based models encode the new person's ratings vector directly. Item-based models fit only his own
   * output weights and bias, with everything else frozen: a ridge regression of his ratings on the rated
   * movies' codes with penalty `foldInRidge` (solved in its n x n dual form).
   */
  foldIn(items: ArrayLike<number>, values: ArrayLike<number>): Float32Array {
    const n = items.length;
    if (n === 0) throw new Error("no ratings to recommend from");
    if (this.config.orientation === "user") {
      const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => items[a] - items[b]);
      const factor = this.config.inputScaling === "inverse-sqrt-count" ? 1 / Math.sqrt(n) : 1;
      const shift = this.config.inputOffset ?? 0;
      const input = this.newUserInput(n);
      input.indptr[1] = n;
      order.forEach((k, q) => {
        input.indices[q] = items[k];
        input.values[q] = (values[k] + shift) * factor;
      });
      this.network.encode(input, [0]);
      return this.network.decodeDense(1).slice();
    }
    if (this.config.outputActivation !== "identity") {
      throw new Error("fold-in for item-based models needs an identity output layer");
    }
    const codes = this.codes();
    const h = this.network.sizes[this.network.nLayers - 1];
    // Kernel K[a][b] = code_a . code_b + 1 (the 1 carries the bias); solve (K + ridge I) alpha = r.
    const system = new Float64Array(n * n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b <= a; b++) {
        let s = 1;
        for (let t = 0; t < h; t++) s += codes[items[a] * h + t] * codes[items[b] * h + t];
        system[a * n + b] = s + (a === b ? this.foldInRidge : 0);
        system[b * n + a] = system[a * n + b];
      }
    }
    const alpha = choleskySolve(system, values, "the fold-in system");
    this.foldWeights ??= this.network.backend.arena.f32(h);
    const weights = this.foldWeights;
    weights.fill(0);
    let bias = 0;
    for (let k = 0; k < n; k++) {
      bias += alpha[k];
      for (let t = 0; t < h; t++) weights[t] += alpha[k] * codes[items[k] * h + t];
    }
    return this.scoresFrom(weights, bias).slice();
  }

  /**
   * One vector per movie from the model's representations: each movie's code for item-based models (what
   * its ratings encode to), each movie's output weights for user-based ones (how it is decoded).
   */
  itemVectors(): { vectors: Float32Array; size: number } {
    const { network } = this;
    const last = network.nLayers - 1;
    const size = network.sizes[last];
    const vectors = this.config.orientation === "item" ? this.codes() : network.tensors[2 * last].data;
    return { vectors, size };
  }

  describe(): string {
    const c = this.config;
    return (
      `${this.kind}: ${c.orientation}-based ${this.network.sizes.join("-")} ${c.activation}, output ` +
      `${c.outputActivation}, inputs ${c.inputScaling}${c.inputOffset ? ` offset by ${c.inputOffset}` : ""}` +
      `${c.tied ? ", tied decoder" : ""}${c.globalKernel ? ", global 3x3 kernel over the ratings" : ""}; ` +
      `${this.network.params.length} parameters`
    );
  }

  /** The weights under PyTorch's names and layouts (fc1.weight is [h][nInputs]). */
  save(): SavedParameters {
    this.network.tieDecoder();
    const tensors: Record<string, Tensor> = {};
    for (const t of this.network.tensors) {
      const [rows, cols] = t.shape;
      const data = t.transposed ? new Float32Array(t.data.length) : t.data.slice();
      if (t.transposed) transposeInto(data, t.data, rows, cols);
      tensors[t.name] = { dtype: "F32", shape: t.transposed ? [cols, rows] : t.shape, data };
    }
    return { config: { ...this.config, foldInRidge: this.foldInRidge }, tensors };
  }

  /** A model of `kind` from what save() wrote. */
  static load(kind: string, saved: SavedParameters, train: Ratings, scale: RatingScale, backend: Backend) {
    const { foldInRidge, ...config } = savedAutoencoderSchema.parse(saved.config);
    const model = new AutoencoderModel(kind, config, train, scale, backend, foldInRidge);
    for (const t of model.network.tensors) {
      const [rows, cols] = t.shape;
      const stored = savedTensor(saved, t.name, "F32", t.data.length);
      if (t.transposed) transposeInto(t.data, stored, cols, rows);
      else t.data.set(stored);
    }
    model.weightsChanged();
    return model;
  }

  /** A one-row input CSR in the network's memory, reused between calls. */
  private newUserInput(n: number): Csr {
    if (!this.newUser || this.newUser.indices.length < n) {
      const { arena } = this.network.backend;
      const size = Math.max(n, this.network.shape.nInputs);
      this.newUser = {
        nRows: 1,
        nCols: this.network.shape.nInputs,
        indptr: arena.i32(2),
        indices: arena.i32(size),
        values: arena.f32(size),
      };
    }
    return this.newUser;
  }

  /** Every movie's code (item-based models), computed once from the training ratings. */
  private codes(): Float32Array {
    const { network } = this;
    const h = network.sizes[network.nLayers - 1];
    const nItems = this.input.nRows;
    if (!this.itemCodes) {
      this.itemCodes = network.backend.arena.f32(nItems * h);
      for (let start = 0; start < nItems; start += PREDICT_BATCH) {
        const rows = Array.from({ length: Math.min(PREDICT_BATCH, nItems - start) }, (_, b) => start + b);
        this.itemCodes.set(network.encode(this.input, rows).subarray(0, rows.length * h), start * h);
      }
    }
    return this.itemCodes;
  }

  /** act(codes . weights + bias) for every movie (item-based models); a view the next call overwrites. */
  private scoresFrom(weights: Float32Array, bias: number): Float32Array {
    const { kernels, arena } = this.network.backend;
    const codes = this.codes();
    const nItems = this.input.nRows;
    const h = weights.length;
    this.itemScores ??= arena.f32(nItems);
    this.itemBias ??= arena.f32(nItems);
    kernels.fill(this.itemBias, nItems, bias);
    kernels.denseAffine(this.itemScores, weights, codes, this.itemBias, 1, h, nItems);
    kernels.activate(this.itemScores, nItems, this.config.outputActivation);
    return this.itemScores;
  }
}

/** Position of (row, col) in a CSR whose rows are sorted by column (binary search); -1 when absent. */
export function csrPosition(csr: Csr, row: number, col: number): number {
  let lo = csr.indptr[row];
  let hi = csr.indptr[row + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = csr.indices[mid];
    if (c === col) return mid;
    if (c < col) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
