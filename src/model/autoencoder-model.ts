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
  /** What the encoder reads: `targets`, each row scaled as `config.inputScaling` says. */
  input!: Csr;
  /** The training ratings (users x movies). */
  train!: Ratings;
  means!: RatingMeans;
  /** What the network's outputs are offset by: the mean of the ratings it was first trained on, or 0. */
  readonly offset: number;
  private itemCodes?: Float32Array;
  private itemScores?: Float32Array;
  private itemBias?: Float32Array;

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
    this.input = this.config.inputScaling === "none" ? this.targets : this.network.adopt(scaleRows(csr));
    this.means = ratingMeans(ratings);
    this.itemCodes = undefined;
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
    const adopted = this.network.adopt(targets);
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
    const csr = this.oriented(pairs).byUser();
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
    // Item-based: every movie's code is fixed by its training ratings, so compute them once; one user's
    // scores are then his output unit's weights against every code.
    const { network } = this;
    const { kernels, arena } = network.backend;
    const last = network.nLayers - 1;
    const h = network.sizes[last];
    const nItems = this.input.nRows;
    if (!this.itemCodes) {
      this.itemCodes = arena.f32(nItems * h);
      for (let start = 0; start < nItems; start += PREDICT_BATCH) {
        const rows = Array.from({ length: Math.min(PREDICT_BATCH, nItems - start) }, (_, b) => start + b);
        this.itemCodes.set(network.encode(this.input, rows).subarray(0, rows.length * h), start * h);
      }
      this.itemScores = arena.f32(nItems);
      this.itemBias = arena.f32(nItems);
    }
    const weights = network.tensors[2 * last].data.subarray(user * h, (user + 1) * h);
    kernels.fill(this.itemBias!, nItems, network.tensors[2 * last + 1].data[user]);
    kernels.denseAffine(this.itemScores!, weights, this.itemCodes, this.itemBias!, 1, h, nItems);
    kernels.activate(this.itemScores!, nItems, this.config.outputActivation);
    return this.itemScores!.map((x) => x + this.offset);
  }

  clip(x: number): number {
    return Math.min(this.scale.max, Math.max(this.scale.min, x));
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
