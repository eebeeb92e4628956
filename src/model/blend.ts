import { z } from "zod";
import type { RatingScale } from "../data/datasets.js";
import type { Ratings } from "../data/ratings.js";
import {
  clipToScale,
  type LoadContext,
  type Model,
  predict,
  type SavedParameters,
  type Tensor,
  tensorsUnder,
} from "./model.js";

/**
 * A linear blend of models (as in the Netflix Prize ensembles): intercept + sum of weight_m * prediction_m,
 * where each member's prediction is clipped and given its fallback first. The weights come from
 * blendWeights on ratings none of the members was trained on. Scores for ranking and fold-in combine the
 * members' unclipped scores with the same weights.
 */
export class Blend implements Model {
  constructor(
    readonly members: Model[],
    /** The intercept, then one weight per member. */
    readonly weights: Float64Array,
    readonly scale: RatingScale,
    /** The registry kind it was trained as: "blend", or a kind that averages fits of its own. */
    readonly kind: string = "blend",
  ) {
    if (members.length === 0) throw new Error("a blend needs at least one model");
    if (weights.length !== members.length + 1)
      throw new Error(`a blend of ${members.length} models needs ${members.length + 1} weights`);
  }

  /** The plain average of `members`, saved and loaded as `kind`. */
  static average(members: Model[], scale: RatingScale, kind: string): Blend {
    const weights = new Float64Array(members.length + 1).fill(1 / members.length);
    weights[0] = 0;
    return new Blend(members, weights, scale, kind);
  }

  get train(): Ratings {
    return this.members[0].train;
  }

  estimate(pairs: Ratings): Float32Array {
    return combine(
      this.weights,
      this.members.map((m) => predict(m, pairs)),
      pairs.size,
    );
  }

  scoreUsers(users: ArrayLike<number>): Float32Array {
    const parts = this.members.map((m) => m.scoreUsers(users).slice());
    return combine(this.weights, parts, users.length * this.train.nItems);
  }

  foldIn(items: ArrayLike<number>, values: ArrayLike<number>): Float32Array {
    const parts = this.members.map((m) => m.foldIn(items, values).slice());
    return combine(this.weights, parts, this.train.nItems);
  }

  /** The first member's item vectors. */
  itemVectors() {
    return this.members[0].itemVectors();
  }

  describe(): string {
    if (this.kind !== "blend") return `${this.kind}: the average of ${this.members.length} fits`;
    const parts = this.members.map((m, i) => `${this.weights[i + 1].toFixed(3)} x ${m.kind}`);
    return `${this.kind}: ${this.weights[0].toFixed(3)} + ${parts.join(" + ")}`;
  }

  /** Each member's configuration, and its tensors under "members.<index>.". */
  save(): SavedParameters {
    const tensors: Record<string, Tensor> = {};
    const members = this.members.map((m, i) => {
      const saved = m.save();
      for (const [name, t] of Object.entries(saved.tensors)) tensors[`members.${i}.${name}`] = t;
      return { kind: m.kind, config: saved.config };
    });
    return { config: { members, weights: Array.from(this.weights) }, tensors };
  }
}

/** What Blend.save() writes as its config. */
export const blendConfigSchema = z
  .object({
    members: z.array(z.object({ kind: z.string(), config: z.unknown() }).strict()).min(1),
    weights: z.array(z.number().finite()),
  })
  .strict();

/** A Blend from what its save() wrote, each member loaded by its own kind. */
export function loadBlend(saved: SavedParameters, context: LoadContext, kind = "blend"): Blend {
  const { members, weights } = blendConfigSchema.parse(saved.config);
  const loaded: Model[] = members.map((m, i) => {
    const memberKind = context.kinds(m.kind);
    const tensors = tensorsUnder(saved.tensors, `members.${i}.`);
    return memberKind.load({ config: memberKind.configSchema.parse(m.config), tensors }, context);
  });
  return new Blend(loaded, Float64Array.from(weights), context.scale, kind);
}

/** weights[0] + sum of weights[m + 1] * parts[m], element-wise over n. */
function combine(weights: ArrayLike<number>, parts: ArrayLike<number>[], n: number): Float32Array {
  const out = new Float32Array(n).fill(weights[0]);
  parts.forEach((p, m) => {
    for (let i = 0; i < n; i++) out[i] += weights[m + 1] * p[i];
  });
  return out;
}

/**
 * Least-squares blend weights, the intercept first: minimise the squared error of intercept + sum of w_m *
 * predictions[m][i] against targets[i] over the rows in `rows` (default all). A tiny ridge keeps the
 * solution defined when members predict alike.
 */
export function blendWeights(
  predictions: ArrayLike<number>[],
  targets: ArrayLike<number>,
  rows?: ArrayLike<number>,
): Float64Array {
  const k = predictions.length + 1;
  const n = rows ? rows.length : targets.length;
  // Normal equations A w = b, with x = (1, predictions...).
  const a = Array.from({ length: k }, () => new Float64Array(k + 1));
  const x = new Float64Array(k);
  x[0] = 1;
  for (let r = 0; r < n; r++) {
    const i = rows ? rows[r] : r;
    for (let m = 1; m < k; m++) x[m] = predictions[m - 1][i];
    for (let p = 0; p < k; p++) {
      for (let q = 0; q < k; q++) a[p][q] += x[p] * x[q];
      a[p][k] += x[p] * targets[i];
    }
  }
  for (let m = 1; m < k; m++) a[m][m] += 1e-9 * n;
  return solve(a);
}

/** Solves the k x (k+1) augmented system by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array[]): Float64Array {
  const k = a.length;
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    if (a[c][c] === 0) throw new Error("the blend's members are degenerate: no unique weights");
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let q = c; q <= k; q++) a[r][q] -= f * a[c][q];
    }
  }
  return Float64Array.from(a, (row, c) => row[k] / row[c]);
}

/**
 * RMSE of blending measured honestly on the same ratings: in each of `folds` folds, the weights are fit on
 * the other folds and judged on this one (clipped to the scale), so the figure is not flattered by the fit.
 */
export function crossValidatedBlendRmse(
  predictions: ArrayLike<number>[],
  targets: ArrayLike<number>,
  scale: RatingScale,
  folds = 5,
): number {
  const n = targets.length;
  let sse = 0;
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < n; i++) (i % folds === f ? held : train).push(i);
    const w = blendWeights(predictions, targets, train);
    for (const i of held) {
      let p = w[0];
      for (let m = 0; m < predictions.length; m++) p += w[m + 1] * predictions[m][i];
      sse += (clipToScale(p, scale) - targets[i]) ** 2;
    }
  }
  return Math.sqrt(sse / n);
}
