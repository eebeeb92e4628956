import type { RatingScale } from "../data/datasets.js";
import { type Csr, Ratings } from "../data/ratings.js";
import type { Activation, Backend } from "../kernels/index.js";
import { AutoencoderNetwork } from "./autoencoder.js";
import { fallbackRating, type RatingMeans, ratingMeans } from "./means.js";

/** How the encoder sees a row's ratings. */
export type InputScaling = "none" | "inverse-sqrt-count";

/**
 * What the autoencoder reconstructs: each user's vector of movie ratings ("user": the tutorial's SAE,
 * U-AutoRec, the deep autoencoder) or each movie's vector of user ratings ("item": I-AutoRec).
 */
export type Orientation = "user" | "item";

/** Everything that fixes an autoencoder model's function, besides its weights. */
export interface AutoencoderConfig {
  orientation: Orientation;
  hidden: number[];
  activation: Activation;
  outputActivation: Activation;
  /**
   * "none" feeds ratings as they are (the tutorial, AutoRec); "inverse-sqrt-count" divides each row by the
   * square root of its number of ratings, so heavy and light raters reach the first layer on one scale.
   */
  inputScaling: InputScaling;
  /**
   * Subtract the training mean from every rating the network reads or reconstructs (and add it back to its
   * outputs), so that an unobserved input, fed as 0, stands for an average rating rather than for 0 stars.
   */
  centered: boolean;
  /**
   * Added to every observed rating the encoder reads (after centering, before scaling); absent or 0 feeds
   * the ratings as they are. Unobserved inputs stay 0, so an offset well above the rating scale lets the
   * first layer weigh "rated this movie" apart from the rating given (the targets are never offset).
   */
  inputOffset?: number;
  /** Tie each decoder layer to its mirror encoder layer (see AutoencoderShape.tied). */
  tied?: boolean;
}

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
 * An autoencoder recommender with the training ratings it reads rows from: predicts any (user, movie) pair,
 * clipped to the rating scale, with the documented fallback (see fallbackRating) for users or movies with no
 * training ratings. Internally rows are users or movies as `config.orientation` says.
 */
export class AutoencoderModel {
  readonly network: AutoencoderNetwork;
  /** The training ratings by row, in the network's memory: the reconstruction targets. */
  targets!: Csr;
  /** What the encoder reads: `targets` offset and scaled as `config.inputOffset` and `inputScaling` say. */
  input!: Csr;
  /** The training ratings (users x movies). */
  train!: Ratings;
  means!: RatingMeans;
  /** What the network's outputs are offset by: the mean of the ratings it was first trained on, or 0. */
  readonly offset: number;
  private itemCodes?: Float32Array;
  private itemScores?: Float32Array;
  private itemBias?: Float32Array;
  private newUser?: Csr;
  private readonly adopted = new WeakMap<Csr, Csr>();
  private readonly orientedCsr = new WeakMap<Ratings, Csr>();
  private foldWeights?: Float32Array;

  constructor(
    readonly config: AutoencoderConfig,
    train: Ratings,
    readonly scale: RatingScale,
    backend: Backend,
    offset?: number,
  ) {
    this.offset = offset ?? (config.centered ? train.mean() : 0);
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
    const raw = this.oriented(ratings).byUser();
    const csr = this.offset === 0 ? raw : { ...raw, values: raw.values.map((v) => v - this.offset) };
    this.targets = this.network.adopt(csr);
    this.input = this.encoderInput(csr);
    this.means = ratingMeans(ratings);
    this.itemCodes = undefined;
  }

  /** The encoder's view of the (centred) ratings `csr`: `targets` itself when the config changes nothing. */
  private encoderInput(csr: Csr): Csr {
    const shift = this.config.inputOffset ?? 0;
    if (shift === 0 && this.config.inputScaling === "none") return this.targets;
    const shifted = shift === 0 ? csr : { ...csr, values: csr.values.map((v) => v + shift) };
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
      if (this.offset !== 0) for (let k = start; k < start + nnz; k++) out[k] += this.offset;
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

  /** Predictions for every (user, movie) in `pairs`, in its order: clipped, with fallbacks. */
  predict(pairs: Ratings): Float32Array {
    const { csr, raw } = this.rawOutputsFor(pairs);
    const byUser = this.config.orientation === "user";
    const out = new Float32Array(pairs.size);
    for (let k = 0; k < pairs.size; k++) {
      const [u, i] = [pairs.users[k], pairs.items[k]];
      const fallback = fallbackRating(this.means, u, i);
      out[k] = Number.isNaN(fallback)
        ? this.clip(raw[csrPosition(csr, byUser ? u : i, byUser ? i : u)])
        : fallback;
    }
    return out;
  }

  /** The model's output for every movie for one user (unclipped, so that it ranks past the scale's top). */
  scoreAll(user: number): Float32Array {
    if (this.config.orientation === "user") {
      this.network.encode(this.input, [user]);
      return this.network.decodeAll().map((x) => x + this.offset);
    }
    // Item-based: one user's scores are his output unit's weights against every movie's code.
    const { network } = this;
    const last = network.nLayers - 1;
    const h = network.sizes[last];
    const weights = network.tensors[2 * last].data.subarray(user * h, (user + 1) * h);
    return this.scoresFrom(weights, network.tensors[2 * last + 1].data[user]);
  }

  /**
   * Scores every movie for someone the model has not seen, from his ratings alone (dense movie indices and
   * ratings), without retraining. User-based models encode his ratings vector directly. Item-based models
   * fit only his own output weights and bias, with everything else frozen: a ridge regression of his
   * ratings on the rated movies' codes with penalty `ridge` (solved in its n x n dual form).
   */
  scoreNewUser(items: ArrayLike<number>, values: ArrayLike<number>, ridge: number): Float32Array {
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
        input.values[q] = (values[k] - this.offset + shift) * factor;
      });
      this.network.encode(input, [0]);
      return this.network.decodeAll().map((x) => x + this.offset);
    }
    if (this.config.outputActivation !== "identity") {
      throw new Error("fold-in for item-based models needs an identity output layer");
    }
    const codes = this.codes();
    const h = this.network.sizes[this.network.nLayers - 1];
    // Kernel K[a][b] = code_a . code_b + 1 (the 1 carries the bias); solve (K + ridge I) alpha = r - offset.
    const kernel = (a: number, b: number) => {
      let s = 1;
      for (let t = 0; t < h; t++) s += codes[a * h + t] * codes[b * h + t];
      return s;
    };
    const system = Array.from({ length: n }, (_, a) =>
      Array.from({ length: n }, (_, b) => kernel(items[a], items[b]) + (a === b ? ridge : 0)),
    );
    const alpha = solve(
      system,
      Array.from(values, (v) => v - this.offset),
    );
    this.foldWeights ??= this.network.backend.arena.f32(h);
    const weights = this.foldWeights;
    weights.fill(0);
    let bias = 0;
    for (let k = 0; k < n; k++) {
      bias += alpha[k];
      for (let t = 0; t < h; t++) weights[t] += alpha[k] * codes[items[k] * h + t];
    }
    return this.scoresFrom(weights, bias);
  }

  /**
   * One vector per movie from the model's representations: each movie's code for item-based models (what
   * its ratings encode to), each movie's output weights for user-based ones (how it is decoded).
   */
  movieVectors(): { vectors: Float32Array; size: number } {
    const { network } = this;
    const last = network.nLayers - 1;
    const size = network.sizes[last];
    const vectors = this.config.orientation === "item" ? this.codes() : network.tensors[2 * last].data;
    return { vectors, size };
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

  /** act(codes . weights + bias) + offset for every movie (item-based models). */
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
    return this.itemScores.map((x) => x + this.offset);
  }

  clip(x: number): number {
    return Math.min(this.scale.max, Math.max(this.scale.min, x));
  }
}

/** Solves the symmetric positive definite system A x = b by Cholesky decomposition (A is overwritten). */
export function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  for (let j = 0; j < n; j++) {
    let d = a[j][j];
    for (let k = 0; k < j; k++) d -= a[j][k] * a[j][k];
    if (!(d > 0)) throw new Error("the fold-in system is not positive definite; raise the ridge penalty");
    a[j][j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = a[i][j];
      for (let k = 0; k < j; k++) s -= a[i][k] * a[j][k];
      a[i][j] = s / a[j][j];
    }
  }
  const y = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= a[i][k] * y[k];
    y[i] = s / a[i][i];
  }
  const x = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= a[k][i] * x[k];
    x[i] = s / a[i][i];
  }
  return x;
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
