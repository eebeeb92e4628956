import { z } from "zod";
import type { RatingScale } from "../data/datasets.js";
import type { Ratings } from "../data/ratings.js";
import { closedFormFit, f32Tensor, type Model, type ModelKind, savedTensor, unsupported } from "./model.js";

const settingsSchema = z
  .object({
    epochs: z.number().int().min(1).max(1000),
    regUser: z.number().finite().min(0),
    regItem: z.number().finite().min(0),
  })
  .strict();
/** Settings of the user/item bias baseline (Surprise's BaselineOnly with ALS). */
export type BiasSettings = z.infer<typeof settingsSchema>;

const configSchema = z.object({ mean: z.number().finite(), regUser: z.number().finite().min(0) }).strict();

/** Surprise BaselineOnly's ALS defaults. */
export const BIAS_DEFAULTS: BiasSettings = { epochs: 10, regUser: 15, regItem: 10 };

/**
 * mu + b_user + b_item, fitted by alternating least squares with separate regularisation (Surprise's
 * BaselineOnly). A new person's bias is one more ALS half-step over his ratings.
 */
export class BiasModel implements Model {
  readonly kind = "bias";
  constructor(
    readonly train: Ratings,
    readonly scale: RatingScale,
    readonly mean: number,
    readonly userBias: Float32Array,
    readonly itemBias: Float32Array,
    /** The user penalty, kept for fold-in. */
    readonly regUser: number,
  ) {}

  estimate(pairs: Ratings): Float32Array {
    return Float32Array.from(
      { length: pairs.size },
      (_, k) => this.mean + this.userBias[pairs.users[k]] + this.itemBias[pairs.items[k]],
    );
  }

  scoreUsers(users: ArrayLike<number>): Float32Array {
    const n = this.train.nItems;
    const out = new Float32Array(users.length * n);
    for (let b = 0; b < users.length; b++) {
      const base = this.mean + this.userBias[users[b]];
      for (let i = 0; i < n; i++) out[b * n + i] = base + this.itemBias[i];
    }
    return out;
  }

  foldIn(items: ArrayLike<number>, values: ArrayLike<number>): Float32Array {
    if (items.length === 0) throw new Error("no ratings to recommend from");
    let s = 0;
    for (let k = 0; k < items.length; k++) s += values[k] - this.mean - this.itemBias[items[k]];
    const userBias = s / (this.regUser + items.length);
    return Float32Array.from(this.itemBias, (b) => this.mean + userBias + b);
  }

  /** (1, b_item): items with alike biases point alike. */
  itemVectors() {
    const vectors = new Float32Array(2 * this.itemBias.length);
    this.itemBias.forEach((b, i) => {
      vectors[2 * i] = 1;
      vectors[2 * i + 1] = b;
    });
    return { vectors, size: 2 };
  }

  describe(): string {
    return `bias: mean ${this.mean.toFixed(4)} + user and item biases (ALS)`;
  }

  save() {
    return {
      config: { mean: this.mean, regUser: this.regUser },
      tensors: { "bias.user": f32Tensor(this.userBias), "bias.item": f32Tensor(this.itemBias) },
    };
  }
}

/** ALS for the biases: `epochs` sweeps of item biases given user biases, then user biases given items. */
function fitBiases(
  train: Ratings,
  s: BiasSettings,
): { mean: number; user: Float64Array; item: Float64Array } {
  const mean = train.mean();
  const user = new Float64Array(train.nUsers);
  const item = new Float64Array(train.nItems);
  const byUser = train.byUser();
  const byItem = train.byItem();
  for (let epoch = 0; epoch < s.epochs; epoch++) {
    for (let i = 0; i < byItem.nRows; i++) {
      let sum = 0;
      for (let k = byItem.indptr[i]; k < byItem.indptr[i + 1]; k++)
        sum += byItem.values[k] - mean - user[byItem.indices[k]];
      item[i] = sum / (s.regItem + byItem.indptr[i + 1] - byItem.indptr[i]);
    }
    for (let u = 0; u < byUser.nRows; u++) {
      let sum = 0;
      for (let k = byUser.indptr[u]; k < byUser.indptr[u + 1]; k++)
        sum += byUser.values[k] - mean - item[byUser.indices[k]];
      user[u] = sum / (s.regUser + byUser.indptr[u + 1] - byUser.indptr[u]);
    }
  }
  return { mean, user, item };
}

/** The `bias` kind: user and item biases. `lambda` sets both penalties. */
export const biasKind: ModelKind<BiasSettings, BiasModel> = {
  name: "bias",
  summary: "mu + user bias + item bias, fitted by ALS as Surprise's BaselineOnly (a baseline)",
  family: "rating",
  settingsSchema,
  defaults: BIAS_DEFAULTS,
  configSchema,
  override(o, base = BIAS_DEFAULTS) {
    unsupported("bias", o, ["epochs", "lambda"]);
    return {
      epochs: o.epochs ?? base.epochs,
      regUser: o.lambda ?? base.regUser,
      regItem: o.lambda ?? base.regItem,
    };
  },
  fit(data, settings) {
    return closedFormFit(data, () => {
      const { mean, user, item } = fitBiases(data.train, settings);
      return new BiasModel(
        data.train,
        data.scale,
        mean,
        Float32Array.from(user),
        Float32Array.from(item),
        settings.regUser,
      );
    });
  },
  load(saved, { train, scale }) {
    const { mean, regUser } = configSchema.parse(saved.config);
    return new BiasModel(
      train,
      scale,
      mean,
      savedTensor(saved, "bias.user", "F32", train.nUsers),
      savedTensor(saved, "bias.item", "F32", train.nItems),
      regUser,
    );
  },
};
