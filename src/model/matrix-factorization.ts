import { z } from "zod";
import type { RatingScale } from "../data/datasets.js";
import { Rng } from "../data/random.js";
import type { Ratings } from "../data/ratings.js";
import { choleskySolve } from "./cholesky.js";
import { closedFormFit, f32Tensor, type Model, type ModelKind, savedTensor, unsupported } from "./model.js";

const settingsSchema = z
  .object({
    factors: z.number().int().min(1).max(10_000),
    epochs: z.number().int().min(1).max(10_000),
    lr: z.number().finite().positive(),
    reg: z.number().finite().min(0),
    initStd: z.number().finite().min(0),
    seed: z.number().int().min(0),
  })
  .strict();
/** Settings of biased matrix factorisation (Surprise's SVD names and defaults). */
export type MfSettings = z.infer<typeof settingsSchema>;

const configSchema = z
  .object({ mean: z.number().finite(), factors: z.number().int().min(1), reg: z.number().finite().min(0) })
  .strict();

/** Surprise SVD's defaults. */
export const MF_DEFAULTS: MfSettings = {
  factors: 100,
  epochs: 20,
  lr: 0.005,
  reg: 0.02,
  initStd: 0.1,
  seed: 1,
};

/**
 * Biased matrix factorisation, as Surprise's SVD: r = mu + b_u + b_i + q_i . p_u. Users and items with no
 * training ratings keep zero factors and biases (their random initial factors never met a rating, so they
 * are dropped after training), and predict() gives them the documented fallback. A new person's bias and
 * factors are the ridge regression of his ratings on (1, q_i) with the training penalty, reg x his count.
 */
export class MatrixFactorization implements Model {
  readonly kind = "mf";
  constructor(
    readonly train: Ratings,
    readonly scale: RatingScale,
    readonly mean: number,
    readonly factors: number,
    readonly reg: number,
    readonly userBias: Float32Array,
    readonly itemBias: Float32Array,
    readonly userFactors: Float32Array,
    readonly itemFactors: Float32Array,
  ) {}

  private raw(u: number, i: number): number {
    const f = this.factors;
    let s = this.mean + this.userBias[u] + this.itemBias[i];
    for (let t = 0; t < f; t++) s += this.userFactors[u * f + t] * this.itemFactors[i * f + t];
    return s;
  }

  estimate(pairs: Ratings): Float32Array {
    return Float32Array.from({ length: pairs.size }, (_, k) => this.raw(pairs.users[k], pairs.items[k]));
  }

  scoreUsers(users: ArrayLike<number>): Float32Array {
    const n = this.train.nItems;
    const out = new Float32Array(users.length * n);
    for (let b = 0; b < users.length; b++) for (let i = 0; i < n; i++) out[b * n + i] = this.raw(users[b], i);
    return out;
  }

  foldIn(items: ArrayLike<number>, values: ArrayLike<number>): Float32Array {
    const n = items.length;
    if (n === 0) throw new Error("no ratings to recommend from");
    const f = this.factors;
    const d = f + 1;
    // Normal equations of the ridge regression on x_i = (1, q_i): (X^T X + reg n I) w = X^T (r - mu - b_i).
    const a = new Float64Array(d * d);
    const rhs = new Float64Array(d);
    const x = new Float64Array(d);
    for (let k = 0; k < n; k++) {
      const i = items[k];
      x[0] = 1;
      for (let t = 0; t < f; t++) x[t + 1] = this.itemFactors[i * f + t];
      const y = values[k] - this.mean - this.itemBias[i];
      for (let p = 0; p < d; p++) {
        rhs[p] += x[p] * y;
        for (let q = 0; q < d; q++) a[p * d + q] += x[p] * x[q];
      }
    }
    for (let p = 0; p < d; p++) a[p * d + p] += Math.max(this.reg * n, 1e-6);
    const w = choleskySolve(a, rhs, "the fold-in system");
    return Float32Array.from({ length: this.train.nItems }, (_, i) => {
      let s = this.mean + w[0] + this.itemBias[i];
      for (let t = 0; t < f; t++) s += w[t + 1] * this.itemFactors[i * f + t];
      return s;
    });
  }

  itemVectors() {
    return { vectors: this.itemFactors, size: this.factors };
  }

  describe(): string {
    return `mf: biased matrix factorisation, ${this.factors} factors (SGD, Surprise's SVD)`;
  }

  save() {
    const f = this.factors;
    return {
      config: { mean: this.mean, factors: f, reg: this.reg },
      tensors: {
        "mf.user_bias": f32Tensor(this.userBias),
        "mf.item_bias": f32Tensor(this.itemBias),
        "mf.user_factors": f32Tensor(this.userFactors, [this.train.nUsers, f]),
        "mf.item_factors": f32Tensor(this.itemFactors, [this.train.nItems, f]),
      },
    };
  }
}

/** SGD as Surprise's SVD: each rating once per epoch in a seeded random order, every term regularised. */
function fitMf(train: Ratings, s: MfSettings) {
  const { factors: f, lr, reg } = s;
  const rng = new Rng(s.seed);
  const mean = train.mean();
  const bu = new Float64Array(train.nUsers);
  const bi = new Float64Array(train.nItems);
  const P = Float64Array.from({ length: train.nUsers * f }, () => rng.normal() * s.initStd);
  const Q = Float64Array.from({ length: train.nItems * f }, () => rng.normal() * s.initStd);
  const order = Int32Array.from({ length: train.size }, (_, i) => i);
  for (let epoch = 0; epoch < s.epochs; epoch++) {
    rng.shuffle(order);
    for (const k of order) {
      const [u, i] = [train.users[k], train.items[k]];
      let dot = 0;
      for (let t = 0; t < f; t++) dot += P[u * f + t] * Q[i * f + t];
      const err = train.values[k] - (mean + bu[u] + bi[i] + dot);
      bu[u] += lr * (err - reg * bu[u]);
      bi[i] += lr * (err - reg * bi[i]);
      for (let t = 0; t < f; t++) {
        const [pu, qi] = [P[u * f + t], Q[i * f + t]];
        P[u * f + t] += lr * (err * qi - reg * pu);
        Q[i * f + t] += lr * (err * pu - reg * qi);
      }
    }
  }
  const seenUsers = new Uint8Array(train.nUsers);
  const seenItems = new Uint8Array(train.nItems);
  for (let k = 0; k < train.size; k++) {
    seenUsers[train.users[k]] = 1;
    seenItems[train.items[k]] = 1;
  }
  for (let u = 0; u < train.nUsers; u++) if (!seenUsers[u]) P.fill(0, u * f, (u + 1) * f);
  for (let i = 0; i < train.nItems; i++) if (!seenItems[i]) Q.fill(0, i * f, (i + 1) * f);
  return { mean, bu, bi, P, Q };
}

/** The `mf` kind. `hidden` sets the number of factors and `lambda` the penalty. */
export const matrixFactorizationKind: ModelKind<MfSettings, MatrixFactorization> = {
  name: "mf",
  summary: "biased matrix factorisation by SGD with Surprise's SVD settings (a baseline)",
  family: "rating",
  settingsSchema,
  defaults: MF_DEFAULTS,
  configSchema,
  override(o, base = MF_DEFAULTS) {
    unsupported("mf", o, ["epochs", "seed", "hidden", "lr", "lambda"]);
    if (o.hidden && o.hidden.length !== 1)
      throw new Error(`hidden: mf takes one size, its number of factors (got ${o.hidden.join(",")})`);
    return {
      ...base,
      factors: o.hidden?.[0] ?? base.factors,
      epochs: o.epochs ?? base.epochs,
      lr: o.lr ?? base.lr,
      reg: o.lambda ?? base.reg,
      seed: o.seed ?? base.seed,
    };
  },
  fit(data, settings) {
    return closedFormFit(data, () => {
      const { mean, bu, bi, P, Q } = fitMf(data.train, settings);
      return new MatrixFactorization(
        data.train,
        data.scale,
        mean,
        settings.factors,
        settings.reg,
        Float32Array.from(bu),
        Float32Array.from(bi),
        Float32Array.from(P),
        Float32Array.from(Q),
      );
    });
  },
  load(saved, { train, scale }) {
    const { mean, factors, reg } = configSchema.parse(saved.config);
    return new MatrixFactorization(
      train,
      scale,
      mean,
      factors,
      reg,
      savedTensor(saved, "mf.user_bias", "F32", train.nUsers),
      savedTensor(saved, "mf.item_bias", "F32", train.nItems),
      savedTensor(saved, "mf.user_factors", "F32", train.nUsers * factors),
      savedTensor(saved, "mf.item_factors", "F32", train.nItems * factors),
    );
  },
};
