import { totalmem } from "node:os";
import { z } from "zod";
import type { RatingScale } from "../data/datasets.js";
import type { Ratings } from "../data/ratings.js";
import { validationSplit } from "../data/splits.js";
import type { Backend } from "../kernels/index.js";
import { invertSpd } from "../kernels/spd-inverse.js";
import {
  cachedMeans,
  type FitOutcome,
  f32Tensor,
  type Model,
  type ModelKind,
  savedTensor,
  unsupported,
} from "./model.js";
import { evaluateRanking } from "./ranking-metrics.js";

const settingsSchema = z
  .object({
    /** L2 penalties to choose among on validation (one value: no search). */
    lambdas: z.array(z.number().finite().positive().max(1e9)).min(1).max(64),
    /** Ratings from which a training rating counts as a positive, to choose among (0: every rating). */
    positiveFrom: z.array(z.number().finite().min(0)).min(1).max(8),
    /** Fraction of the training ratings held out to choose on when there is more than one candidate. */
    validation: z.number().gt(0).max(0.5),
    /** A held-out rating at least this is relevant to the validation ranking. */
    relevantFrom: z.number().finite(),
    seed: z.number().int().min(0),
  })
  .strict();
/** Settings of EASE: the candidates it chooses among on validation NDCG@10. */
export type EaseSettings = z.infer<typeof settingsSchema>;

const configSchema = z
  .object({ lambda: z.number().finite().positive(), positiveFrom: z.number().finite().min(0) })
  .strict();

/**
 * EASE's defaults. The penalties span 30 to 3000 because the best one grows with the data (Steck used 500
 * on ML-20M; 300 to 500 won on ML-100K's validation ratings); positives are every rating or those of 4 and
 * more, whichever ranks the validation ratings better.
 */
export const EASE_DEFAULTS: EaseSettings = {
  lambdas: [30, 100, 300, 1000, 3000],
  positiveFrom: [0, 4],
  validation: 0.05,
  relevantFrom: 4,
  seed: 1,
};

/** Bytes EASE may use for its items x items matrices: a third of the machine's memory, at most 3 GiB. */
function memoryBudget(): number {
  return Math.min(3 * 2 ** 30, totalmem() / 3);
}

/**
 * EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): an item-item autoencoder
 * with a closed form. With X the binary users x items matrix of positives, P = (X^T X + lambda I)^-1 and
 * B = I - P diag(1/diag P) with a zero diagonal, a user's scores are x_u B. It ranks; it does not predict
 * stars, so its estimates are the user's training mean. Someone new is x B from his positives; with none,
 * the most liked items come first.
 */
export class EaseModel implements Model {
  readonly kind = "ease";
  constructor(
    readonly train: Ratings,
    readonly scale: RatingScale,
    /** B, items x items, row-major: row j is what a positive for item j adds to every item's score. */
    readonly weights: Float32Array,
    /** Positives per item in the training ratings (the ranking for someone with none). */
    readonly popularity: Float32Array,
    readonly lambda: number,
    readonly positiveFrom: number,
  ) {}

  private get nItems(): number {
    return this.train.nItems;
  }

  /** Adds row j of B to `out` for every positive (item, value) pair. */
  private accumulate(out: Float32Array, items: ArrayLike<number>, values: ArrayLike<number>): boolean {
    const n = this.nItems;
    let any = false;
    for (let k = 0; k < items.length; k++) {
      if (values[k] < this.positiveFrom) continue;
      any = true;
      const row = items[k] * n;
      for (let i = 0; i < n; i++) out[i] += this.weights[row + i];
    }
    return any;
  }

  /** The user's training mean: EASE ranks and has no opinion on stars (predict() clips it). */
  estimate(pairs: Ratings): Float32Array {
    const { user, global } = cachedMeans(this.train);
    return Float32Array.from({ length: pairs.size }, (_, k) => {
      const m = user[pairs.users[k]];
      return Number.isNaN(m) ? global : m;
    });
  }

  scoreUsers(users: ArrayLike<number>): Float32Array {
    const n = this.nItems;
    const csr = this.train.byUser();
    const out = new Float32Array(users.length * n);
    for (let b = 0; b < users.length; b++) {
      const [start, end] = [csr.indptr[users[b]], csr.indptr[users[b] + 1]];
      const row = out.subarray(b * n, (b + 1) * n);
      this.accumulate(row, csr.indices.subarray(start, end), csr.values.subarray(start, end));
    }
    return out;
  }

  foldIn(items: ArrayLike<number>, values: ArrayLike<number>): Float32Array {
    if (items.length === 0) throw new Error("no ratings to recommend from");
    const out = new Float32Array(this.nItems);
    if (this.accumulate(out, items, values)) return out;
    // No positive among them: nothing to be similar to, so the most liked items come first.
    return Float32Array.from(this.popularity);
  }

  /** For each candidate i, the positive j with the largest B[j][i] > 0 (its largest term of x_u B). */
  explain(candidates: ArrayLike<number>, items: ArrayLike<number>, values: ArrayLike<number>): Int32Array {
    const n = this.nItems;
    return Int32Array.from(candidates, (i) => {
      let best = -1;
      for (let k = 0; k < items.length; k++) {
        if (values[k] < this.positiveFrom || items[k] === i) continue;
        const w = this.weights[items[k] * n + i];
        if (w > 0 && (best < 0 || w > this.weights[items[best] * n + i])) best = k;
      }
      return best;
    });
  }

  /** Row i of B: the items whose positives raise item i's neighbours alike point alike. */
  itemVectors() {
    return { vectors: this.weights, size: this.nItems };
  }

  describe(): string {
    const positives = this.positiveFrom > 0 ? `ratings >= ${this.positiveFrom}` : "every rating";
    return `ease: ${this.nItems} x ${this.nItems} item weights, lambda ${this.lambda}, positives ${positives}`;
  }

  save() {
    const n = this.nItems;
    return {
      config: { lambda: this.lambda, positiveFrom: this.positiveFrom },
      tensors: {
        "ease.weights": f32Tensor(this.weights, [n, n]),
        "ease.popularity": f32Tensor(this.popularity),
      },
    };
  }
}

/** An items x items matrix in the backend's memory, after checking that EASE fits in memory. */
function workMatrix(n: number, backend: Backend): Float32Array {
  // The work matrix, and the model's own copy of B.
  const bytes = 2 * 4 * n * n;
  if (bytes > memoryBudget()) {
    throw new Error(
      `EASE needs a ${n} x ${n} matrix (${(bytes / 2 ** 30).toFixed(1)} GiB), more than the ` +
        `${(memoryBudget() / 2 ** 30).toFixed(1)} GiB it may use here: keep fewer items (drop the least rated) ` +
        "or use a model without an items x items matrix",
    );
  }
  return backend.arena.f32(n * n);
}

/** `matrix` = X^T X for the positives of `train`; returns the positives per item. */
function gram(train: Ratings, positiveFrom: number, matrix: Float32Array): Float32Array {
  const n = train.nItems;
  matrix.fill(0);
  const csr = train.byUser();
  const liked: number[] = [];
  for (let u = 0; u < csr.nRows; u++) {
    liked.length = 0;
    for (let k = csr.indptr[u]; k < csr.indptr[u + 1]; k++)
      if (csr.values[k] >= positiveFrom) liked.push(csr.indices[k]);
    for (const a of liked) {
      const row = a * n;
      for (const b of liked) matrix[row + b] += 1;
    }
  }
  return Float32Array.from({ length: n }, (_, i) => matrix[i * n + i]);
}

/** B from the Gram matrix `g` (overwritten): P = (G + lambda I)^-1, B_ij = -P_ij / P_jj, B_jj = 0. */
function weightsFrom(g: Float32Array, n: number, lambda: number, backend: Backend): Float32Array {
  for (let i = 0; i < n; i++) g[i * n + i] += lambda;
  invertSpd(backend, g, n);
  const diagonal = Float32Array.from({ length: n }, (_, j) => g[j * n + j]);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) g[row + j] = i === j ? 0 : -g[row + j] / diagonal[j];
  }
  return g;
}

/** Fits EASE on all of `train` with one penalty and positive threshold, in the work matrix `work`. */
function fitOne(
  train: Ratings,
  scale: RatingScale,
  lambda: number,
  positiveFrom: number,
  backend: Backend,
  work: Float32Array,
): EaseModel {
  const popularity = gram(train, positiveFrom, work);
  const weights = weightsFrom(work, train.nItems, lambda, backend);
  // The model keeps its own copy: the backend's memory is reused by later fits.
  return new EaseModel(train, scale, weights.slice(), popularity, lambda, positiveFrom);
}

/** The `ease` kind. `lambda` fixes the penalty and `positiveFrom` the positives (no search then). */
export const easeKind: ModelKind<EaseSettings, EaseModel> = {
  name: "ease",
  summary: "EASE (Steck 2019): closed-form item-item autoencoder for top-N, lambda chosen on validation NDCG",
  family: "top-n",
  settingsSchema,
  defaults: EASE_DEFAULTS,
  configSchema,
  override(o, base = EASE_DEFAULTS) {
    unsupported("ease", o, ["lambda", "positiveFrom", "validation"]);
    return {
      ...base,
      lambdas: o.lambda !== undefined ? [o.lambda] : base.lambdas,
      positiveFrom: o.positiveFrom !== undefined ? [o.positiveFrom] : base.positiveFrom,
      validation: o.validation ?? base.validation,
      seed: o.seed ?? base.seed,
    };
  },
  fit(data, settings, { backend }): FitOutcome<EaseModel> {
    const started = performance.now();
    const work = workMatrix(data.train.nItems, backend);
    const { fit, validation } = validationSplit(data.train, settings.validation, settings.seed);
    const trials: NonNullable<FitOutcome["trials"]> = [];
    const candidates = settings.positiveFrom.flatMap((p) => settings.lambdas.map((l) => [l, p]));
    if (candidates.length > 1) {
      for (const positiveFrom of settings.positiveFrom) {
        for (const lambda of settings.lambdas) {
          const model = fitOne(fit, data.scale, lambda, positiveFrom, backend, work);
          const { ndcg } = evaluateRanking((u) => model.scoreUsers([u]), fit, validation, {
            k: 10,
            threshold: settings.relevantFrom,
          });
          trials.push({ settings: { lambda, positiveFrom }, metric: "validation NDCG@10", score: ndcg });
        }
      }
      trials.sort((a, b) => b.score - a.score);
    }
    const [lambda, positiveFrom] = trials[0]
      ? [trials[0].settings.lambda, trials[0].settings.positiveFrom]
      : candidates[0];
    const model = fitOne(data.train, data.scale, lambda, positiveFrom, backend, work);
    const seconds = (performance.now() - started) / 1000;
    return { model, history: [], bestEpoch: 0, seconds, fit: data.train, trials };
  },
  load(saved, { train, scale }) {
    const { lambda, positiveFrom } = configSchema.parse(saved.config);
    const n = train.nItems;
    return new EaseModel(
      train,
      scale,
      savedTensor(saved, "ease.weights", "F32", n * n),
      savedTensor(saved, "ease.popularity", "F32", n),
      lambda,
      positiveFrom,
    );
  },
};
