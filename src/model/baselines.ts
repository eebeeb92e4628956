import type { RatingScale } from "../data/datasets.js";
import { Rng } from "../data/random.js";
import type { Ratings } from "../data/ratings.js";

/** What the evaluation needs from any model: predictions for pairs and a score for every movie. */
export interface Predictor {
  readonly train: Ratings;
  /** Predictions for every (user, movie) in `pairs`, in its order, clipped to the scale. */
  predict(pairs: Ratings): Float32Array;
  /** A score for every movie for one user (higher is better; not necessarily clipped). */
  scoreAll(user: number): Float32Array;
}

function clipper(scale: RatingScale) {
  return (x: number) => Math.min(scale.max, Math.max(scale.min, x));
}

/** Predicts the training mean for everything. */
export class GlobalMean implements Predictor {
  readonly mean: number;
  constructor(
    readonly train: Ratings,
    readonly scale: RatingScale,
  ) {
    this.mean = train.mean();
  }
  predict(pairs: Ratings): Float32Array {
    return new Float32Array(pairs.size).fill(clipper(this.scale)(this.mean));
  }
  scoreAll(): Float32Array {
    return new Float32Array(this.train.nItems).fill(this.mean);
  }
}

/** Settings of the user/item bias baseline (Surprise's BaselineOnly with ALS). */
export interface BiasConfig {
  epochs: number;
  regUser: number;
  regItem: number;
}

/** Surprise BaselineOnly's ALS defaults. */
export const BIAS_DEFAULTS: BiasConfig = { epochs: 10, regUser: 15, regItem: 10 };

/**
 * mu + b_user + b_item, fitted by alternating least squares with separate regularisation (Surprise's
 * BaselineOnly defaults). An unseen user or movie contributes a bias of 0.
 */
export class BiasModel implements Predictor {
  readonly mean: number;
  readonly userBias: Float64Array;
  readonly itemBias: Float64Array;

  constructor(
    readonly train: Ratings,
    readonly scale: RatingScale,
    config: BiasConfig = BIAS_DEFAULTS,
  ) {
    this.mean = train.mean();
    this.userBias = new Float64Array(train.nUsers);
    this.itemBias = new Float64Array(train.nItems);
    const byUser = train.byUser();
    const byItem = train.byItem();
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      for (let i = 0; i < byItem.nRows; i++) {
        let s = 0;
        for (let k = byItem.indptr[i]; k < byItem.indptr[i + 1]; k++)
          s += byItem.values[k] - this.mean - this.userBias[byItem.indices[k]];
        this.itemBias[i] = s / (config.regItem + byItem.indptr[i + 1] - byItem.indptr[i]);
      }
      for (let u = 0; u < byUser.nRows; u++) {
        let s = 0;
        for (let k = byUser.indptr[u]; k < byUser.indptr[u + 1]; k++)
          s += byUser.values[k] - this.mean - this.itemBias[byUser.indices[k]];
        this.userBias[u] = s / (config.regUser + byUser.indptr[u + 1] - byUser.indptr[u]);
      }
    }
  }

  predict(pairs: Ratings): Float32Array {
    const clip = clipper(this.scale);
    return Float32Array.from({ length: pairs.size }, (_, k) =>
      clip(this.mean + this.userBias[pairs.users[k]] + this.itemBias[pairs.items[k]]),
    );
  }

  scoreAll(user: number): Float32Array {
    return Float32Array.from(this.itemBias, (b) => this.mean + this.userBias[user] + b);
  }
}

/** Settings of biased matrix factorisation (Surprise's SVD names and defaults). */
export interface MfConfig {
  factors: number;
  epochs: number;
  lr: number;
  reg: number;
  initStd: number;
  seed: number;
}

/** Surprise SVD's defaults. */
export const MF_DEFAULTS: MfConfig = {
  factors: 100,
  epochs: 20,
  lr: 0.005,
  reg: 0.02,
  initStd: 0.1,
  seed: 1,
};

/**
 * Biased matrix factorisation trained by SGD, as Surprise's SVD: r = mu + b_u + b_i + q_i . p_u, each
 * rating visited once per epoch in a seeded random order, every term regularised by `reg`. Unseen users or
 * movies contribute nothing beyond the mean.
 */
export class MatrixFactorization implements Predictor {
  readonly mean: number;
  readonly userBias: Float64Array;
  readonly itemBias: Float64Array;
  readonly userFactors: Float64Array;
  readonly itemFactors: Float64Array;

  constructor(
    readonly train: Ratings,
    readonly scale: RatingScale,
    readonly config: MfConfig = MF_DEFAULTS,
  ) {
    const { factors: f, lr, reg } = config;
    const rng = new Rng(config.seed);
    this.mean = train.mean();
    this.userBias = new Float64Array(train.nUsers);
    this.itemBias = new Float64Array(train.nItems);
    this.userFactors = Float64Array.from({ length: train.nUsers * f }, () => rng.normal() * config.initStd);
    this.itemFactors = Float64Array.from({ length: train.nItems * f }, () => rng.normal() * config.initStd);
    const order = Int32Array.from({ length: train.size }, (_, i) => i);
    const { userFactors: P, itemFactors: Q } = this;
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      rng.shuffle(order);
      for (const k of order) {
        const [u, i] = [train.users[k], train.items[k]];
        let dot = 0;
        for (let t = 0; t < f; t++) dot += P[u * f + t] * Q[i * f + t];
        const err = train.values[k] - (this.mean + this.userBias[u] + this.itemBias[i] + dot);
        this.userBias[u] += lr * (err - reg * this.userBias[u]);
        this.itemBias[i] += lr * (err - reg * this.itemBias[i]);
        for (let t = 0; t < f; t++) {
          const [pu, qi] = [P[u * f + t], Q[i * f + t]];
          P[u * f + t] += lr * (err * qi - reg * pu);
          Q[i * f + t] += lr * (err * pu - reg * qi);
        }
      }
    }
  }

  private raw(u: number, i: number): number {
    const f = this.config.factors;
    let s = this.mean + this.userBias[u] + this.itemBias[i];
    for (let t = 0; t < f; t++) s += this.userFactors[u * f + t] * this.itemFactors[i * f + t];
    return s;
  }

  predict(pairs: Ratings): Float32Array {
    const clip = clipper(this.scale);
    return Float32Array.from({ length: pairs.size }, (_, k) =>
      clip(this.raw(pairs.users[k], pairs.items[k])),
    );
  }

  scoreAll(user: number): Float32Array {
    return Float32Array.from({ length: this.train.nItems }, (_, i) => this.raw(user, i));
  }
}

/** The baseline models by name. */
export const BASELINES = ["mf", "bias", "mean"] as const;
/** One of BASELINES. */
export type BaselineKind = (typeof BASELINES)[number];

/** Fits baseline `kind` on `train` with its defaults. */
export function fitBaseline(kind: BaselineKind, train: Ratings, scale: RatingScale): Predictor {
  if (kind === "mf") return new MatrixFactorization(train, scale);
  if (kind === "bias") return new BiasModel(train, scale);
  return new GlobalMean(train, scale);
}
