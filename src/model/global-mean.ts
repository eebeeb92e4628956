import { z } from "zod";
import type { RatingScale } from "../data/datasets.js";
import type { Ratings } from "../data/ratings.js";
import { closedFormFit, type Model, type ModelKind, unsupported } from "./model.js";

const settingsSchema = z.object({}).strict();
const configSchema = z.object({ mean: z.number().finite() }).strict();

/** Predicts the training mean for everything; every item scores the same. */
export class GlobalMean implements Model {
  readonly kind = "mean";
  constructor(
    readonly train: Ratings,
    readonly scale: RatingScale,
    readonly mean: number,
  ) {}

  estimate(pairs: Ratings): Float32Array {
    return new Float32Array(pairs.size).fill(this.mean);
  }

  scoreUsers(users: ArrayLike<number>): Float32Array {
    return new Float32Array(users.length * this.train.nItems).fill(this.mean);
  }

  foldIn(items: ArrayLike<number>): Float32Array {
    if (items.length === 0) throw new Error("no ratings to recommend from");
    return new Float32Array(this.train.nItems).fill(this.mean);
  }

  /** Every item is the same to this model: one constant coordinate each. */
  itemVectors() {
    return { vectors: new Float32Array(this.train.nItems).fill(1), size: 1 };
  }

  describe(): string {
    return `mean: the training mean ${this.mean.toFixed(4)} for everything`;
  }

  save() {
    return { config: { mean: this.mean }, tensors: {} };
  }
}

/** The `mean` kind: the global mean of the training ratings. */
export const globalMeanKind: ModelKind<z.infer<typeof settingsSchema>, GlobalMean> = {
  name: "mean",
  summary: "the global mean of the training ratings (a baseline)",
  family: "rating",
  settingsSchema,
  defaults: {},
  configSchema,
  override(overrides, base = {}) {
    unsupported("mean", overrides, []);
    return base;
  },
  fit(data) {
    return closedFormFit(data, () => {
      return new GlobalMean(data.train, data.scale, data.train.mean());
    });
  },
  load(saved, { train, scale }) {
    return new GlobalMean(train, scale, configSchema.parse(saved.config).mean);
  },
};
