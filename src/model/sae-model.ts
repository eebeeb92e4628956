import type { RatingScale } from "../data/datasets.js";
import type { Csr, Ratings } from "../data/ratings.js";
import type { Backend } from "../kernels/index.js";
import { fallbackRating, type RatingMeans, ratingMeans } from "./means.js";
import { SaeNetwork } from "./sae.js";

/** How the encoder sees a user's ratings (see SaeModel). */
export type InputScaling = "none" | "inverse-sqrt-count";

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

/** Users encoded per kernel call when predicting. */
const PREDICT_BATCH = 256;

/**
 * A stacked autoencoder with the training ratings it reads each user from: predicts any (user, movie) pair,
 * clipped to the rating scale, with the documented fallback (see fallbackRating) for users or movies with no
 * training ratings.
 */
export class SaeModel {
  readonly network: SaeNetwork;
  /** The training ratings by user, in the network's memory: the reconstruction targets. */
  targets!: Csr;
  /** What the encoder reads: `targets`, each user's row scaled as `inputScaling` says. */
  input!: Csr;
  train!: Ratings;
  means!: RatingMeans;

  constructor(
    hidden: number[],
    train: Ratings,
    readonly scale: RatingScale,
    backend: Backend,
    /**
     * "none" feeds ratings as they are (the tutorial); "inverse-sqrt-count" divides each user's ratings by
     * the square root of how many he has, so heavy and light raters reach the first layer on one scale.
     */
    readonly inputScaling: InputScaling = "none",
  ) {
    this.network = new SaeNetwork({ nItems: train.nItems, hidden }, backend);
    this.useRatings(train);
  }

  /**
   * Reads users from `ratings` from now on (same index space). After training on part of the training
   * ratings (the rest held out for validation), this lets predictions use everything known about a user.
   */
  useRatings(ratings: Ratings): void {
    this.train = ratings;
    const csr = ratings.byUser();
    this.targets = this.network.adopt(csr);
    this.input = this.inputScaling === "none" ? this.targets : this.network.adopt(scaleRows(csr));
    this.means = ratingMeans(ratings);
  }

  /**
   * Raw network outputs (unclipped, no fallback) at every entry of `targets` (by user, adopted or not),
   * in CSR order, each user's input being his training ratings.
   */
  rawOutputs(targets: Csr): Float32Array {
    const out = new Float32Array(targets.indices.length);
    const adopted = this.network.adopt(targets);
    const users: number[] = [];
    const flush = () => {
      if (users.length === 0) return;
      const start = targets.indptr[users[0]];
      const nnz = targets.indptr[users[users.length - 1] + 1] - start;
      this.network.encode(this.input, users);
      out.set(this.network.decodeAt(adopted, users, nnz), start);
      users.length = 0;
    };
    for (let u = 0; u < targets.nRows; u++) {
      if (targets.indptr[u + 1] === targets.indptr[u]) continue;
      if (users.length > 0 && users[users.length - 1] !== u - 1) flush();
      users.push(u);
      if (users.length === PREDICT_BATCH) flush();
    }
    flush();
    return out;
  }

  /** Predictions for every (user, item) in `pairs`, in its order: clipped, with fallbacks. */
  predict(pairs: Ratings): Float32Array {
    const csr = pairs.byUser();
    const raw = this.rawOutputs(csr);
    const out = new Float32Array(pairs.size);
    for (let k = 0; k < pairs.size; k++) {
      const [u, i] = [pairs.users[k], pairs.items[k]];
      const fallback = fallbackRating(this.means, u, i);
      out[k] = Number.isNaN(fallback) ? this.clip(raw[csrPosition(csr, u, i)]) : fallback;
    }
    return out;
  }

  /** The network's output for every movie for one user (unclipped, so that it ranks past the scale's top). */
  scoreAll(user: number): Float32Array {
    this.network.encode(this.input, [user]);
    return this.network.decodeAll().slice();
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
