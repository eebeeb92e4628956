import { totalmem } from "node:os";
import { z } from "zod";
import { type RatingScale, scaledRating } from "../data/datasets.js";
import type { Ratings } from "../data/ratings.js";
import { minRatingsForItems, validationSplit } from "../data/splits.js";
import type { Backend } from "../kernels/index.js";
import { invertSpd } from "../kernels/spd-inverse.js";
import {
  batchedScores,
  type FitOutcome,
  f32Tensor,
  type Model,
  type ModelKind,
  savedTensor,
  type TrainingSet,
  unsupported,
  userMeanEstimates,
} from "./model.js";
import { evaluateRanking } from "./ranking-metrics.js";

const settingsSchema = z
  .object({
    /** L2 penalties to choose among on validation (one value: no search). */
    lambdas: z.array(z.number().finite().positive().max(1e9)).min(1).max(64),
    /** Ratings from which a training rating counts as a positive, to choose among (0: every rating). */
    positiveFrom: z.array(z.number().finite().min(0)).min(1).max(8),
    /** Weights in X of a rating from otherFrom up to positiveFrom, to choose among (0: it does not count). */
    otherWeights: z.array(z.number().finite().min(0).max(1)).min(1).max(8),
    /** Ratings below this never count: a disliked film pulls no neighbour up. */
    otherFrom: z.number().finite(),
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
  .object({
    lambda: z.number().finite().positive(),
    positiveFrom: z.number().finite().min(0),
    otherWeight: z.number().finite().min(0).max(1),
    otherFrom: z.number().finite(),
  })
  .strict();

/**
 * EASE's defaults: the candidates one validation split (20% of the training ratings, the share of a test
 * fold) chooses among by NDCG@10. The penalties span 30 to 3000 because the best one grows with the data
 * (Steck used 500 on ML-20M). Positives are every rating, or those of 4 and more with the lower ratings
 * weighing 0, 0.25 or 0.5 (someone who watched a film and rated it 3 still chose to watch it). Measured on
 * ML-100K u1 (two validation splits, NDCG@10): lambda 300 with ratings >= 4 scored 0.270 with lower ratings
 * left out and 0.274 at weight 0.25; every rating as a positive, 0.254; a 5% validation split ranked the
 * candidates unlike the test fold, so the split is 20%.
 */
export const EASE_DEFAULTS: EaseSettings = {
  lambdas: [30, 100, 300, 1000, 3000],
  positiveFrom: [0, 4],
  otherWeights: [0, 0.25, 0.5],
  otherFrom: 3,
  validation: 0.2,
  relevantFrom: 4,
  seed: 1,
};

/** Users scored per kernel call. */
const SCORE_BATCH = 256;

/** Bytes EASE may use for its items x items matrix: a third of the machine's memory, at most 3 GiB. */
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
  readonly ranksOnly = true;
  constructor(
    readonly train: Ratings,
    readonly scale: RatingScale,
    /** B, items x items, row-major: row j is what a positive for item j adds to every item's score. */
    readonly weights: Float32Array,
    /** Positives per item in the training ratings (the ranking for someone with none). */
    readonly popularity: Float32Array,
    readonly lambda: number,
    readonly positiveFrom: number,
    /** x_ui of a rating from otherFrom up to positiveFrom (0: it does not count). */
    readonly otherWeight: number,
    readonly otherFrom: number,
    /** The kernels that score users (x_u B is sparseAffine over B); `weights` lives in their memory. */
    private readonly backend: Backend,
  ) {}

  private get nItems(): number {
    return this.train.nItems;
  }

  private weightOf(value: number): number {
    return inputWeight(value, this);
  }

  /**
   * x_u B for each of `rows` (lists of dense items and ratings): one sparseAffine kernel call over B for the
   * whole batch. Returns the scores ([rows.length][nItems], a view the next call overwrites).
   */
  private scoreRows(rows: { items: ArrayLike<number>; values: ArrayLike<number> }[]): Float32Array {
    const n = this.nItems;
    const nnz = rows.reduce((a, r) => a + r.items.length, 0);
    const b = scoringBuffers(this.backend, rows.length, nnz, n);
    let k = 0;
    rows.forEach((r, i) => {
      b.rows[i] = i;
      b.indptr[i] = k;
      for (let q = 0; q < r.items.length; q++) {
        const x = this.weightOf(r.values[q]);
        if (x === 0) continue;
        b.indices[k] = r.items[q];
        b.values[k++] = x;
      }
    });
    b.indptr[rows.length] = k;
    const out = b.out.subarray(0, rows.length * n);
    const batch = {
      rows: b.rows,
      nRows: rows.length,
      indptr: b.indptr,
      indices: b.indices,
      values: b.values,
    };
    this.backend.kernels.sparseAffine(out, batch, this.weights, b.zero, n);
    return out;
  }

  /** The user's training mean: EASE ranks and has no opinion on stars (predict() clips it). */
  estimate(pairs: Ratings): Float32Array {
    return userMeanEstimates(this.train, pairs);
  }

  scoreUsers(users: ArrayLike<number>): Float32Array {
    const n = this.nItems;
    const csr = this.train.byUser();
    const out = new Float32Array(users.length * n);
    const list = Array.from(users);
    for (let at = 0; at < users.length; at += SCORE_BATCH) {
      const chunk = list.slice(at, at + SCORE_BATCH);
      const rows = chunk.map((u) => ({
        items: csr.indices.subarray(csr.indptr[u], csr.indptr[u + 1]),
        values: csr.values.subarray(csr.indptr[u], csr.indptr[u + 1]),
      }));
      out.set(this.scoreRows(rows), at * n);
    }
    return out;
  }

  foldIn(items: ArrayLike<number>, values: ArrayLike<number>): Float32Array {
    if (items.length === 0) throw new Error("no ratings to recommend from");
    // No positive among them: nothing to be similar to, so the most liked items come first.
    if (!Array.from(values).some((v) => v >= this.positiveFrom)) return Float32Array.from(this.popularity);
    return this.scoreRows([{ items, values }]).slice();
  }

  /** For each candidate i, the rated j with the largest term x_uj B[j][i] > 0 of its score x_u B. */
  explain(candidates: ArrayLike<number>, items: ArrayLike<number>, values: ArrayLike<number>): Int32Array {
    const n = this.nItems;
    return Int32Array.from(candidates, (i) => {
      let best = -1;
      let largest = 0;
      for (let k = 0; k < items.length; k++) {
        if (items[k] === i) continue;
        const term = this.weightOf(values[k]) * this.weights[items[k] * n + i];
        if (term > largest) {
          largest = term;
          best = k;
        }
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
    const others =
      this.otherWeight > 0 && this.positiveFrom > 0
        ? `, ratings from ${this.otherFrom} weigh ${this.otherWeight}`
        : "";
    return `ease: ${this.nItems} x ${this.nItems} item weights, lambda ${this.lambda}, positives ${positives}${others}`;
  }

  save() {
    const n = this.nItems;
    return {
      config: {
        lambda: this.lambda,
        positiveFrom: this.positiveFrom,
        otherWeight: this.otherWeight,
        otherFrom: this.otherFrom,
      },
      tensors: {
        "ease.weights": f32Tensor(this.weights, [n, n]),
        "ease.popularity": f32Tensor(this.popularity),
      },
    };
  }
}

/** Input rows and scores for a batch of users, in a backend's memory. */
interface ScoringBuffers {
  rows: Int32Array;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  out: Float32Array;
  zero: Float32Array;
}

const scoring = new WeakMap<Backend, ScoringBuffers>();

/** Buffers for `rows` users with `nnz` inputs over `n` items, kept per backend (whose memory is never freed). */
function scoringBuffers(backend: Backend, rows: number, nnz: number, n: number): ScoringBuffers {
  const kept = scoring.get(backend);
  if (kept && kept.rows.length >= rows && kept.indices.length >= nnz && kept.zero.length >= n) return kept;
  const { arena } = backend;
  const size = Math.max(rows, SCORE_BATCH, kept?.rows.length ?? 0);
  const items = Math.max(n, kept?.zero.length ?? 0);
  const entries = Math.max(nnz, 1024, kept?.indices.length ?? 0);
  const buffers = {
    rows: arena.i32(size),
    indptr: arena.i32(size + 1),
    indices: arena.i32(entries),
    values: arena.f32(entries),
    out: arena.f32(size * items),
    zero: arena.f32(items),
  };
  scoring.set(backend, buffers);
  return buffers;
}

/** An items x items matrix in the backend's memory, after checking that EASE fits in memory. */
function workMatrix(train: Ratings, backend: Backend): Float32Array {
  const n = train.nItems;
  // The work matrix, which ends as the model's B.
  const bytes = 4 * n * n;
  if (bytes > memoryBudget()) {
    const maxItems = Math.floor(Math.sqrt(memoryBudget() / 4));
    throw new Error(
      `EASE needs a ${n} x ${n} matrix (${(bytes / 2 ** 30).toFixed(1)} GiB), more than the ` +
        `${(memoryBudget() / 2 ** 30).toFixed(1)} GiB it may use here (at most ${maxItems} items): keep the ` +
        `items with --min-item-ratings ${minRatingsForItems(train, maxItems)} or more, or use mult-vae`,
    );
  }
  return backend.arena.f32(n * n);
}

/** How EASE reads ratings into X. */
interface InputWeights {
  positiveFrom: number;
  otherWeight: number;
  otherFrom: number;
}

/** X_ui for a rating: 1 from positiveFrom up, otherWeight from otherFrom up, else 0. */
function inputWeight(value: number, x: InputWeights): number {
  if (value >= x.positiveFrom) return 1;
  return value >= x.otherFrom ? x.otherWeight : 0;
}

/** `matrix` = X^T X with X read as inputWeight says; returns the positives per item. */
function gram(train: Ratings, reading: InputWeights, matrix: Float32Array): Float32Array {
  const n = train.nItems;
  matrix.fill(0);
  const csr = train.byUser();
  const items: number[] = [];
  const weights: number[] = [];
  const popularity = new Float32Array(n);
  for (let u = 0; u < csr.nRows; u++) {
    items.length = 0;
    weights.length = 0;
    for (let k = csr.indptr[u]; k < csr.indptr[u + 1]; k++) {
      const w = inputWeight(csr.values[k], reading);
      if (w === 0) continue;
      if (w === 1) popularity[csr.indices[k]]++;
      items.push(csr.indices[k]);
      weights.push(w);
    }
    for (let a = 0; a < items.length; a++) {
      const row = items[a] * n;
      for (let b = 0; b < items.length; b++) matrix[row + items[b]] += weights[a] * weights[b];
    }
  }
  return popularity;
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
  data: TrainingSet,
  candidate: Candidate,
  otherFrom: number,
  backend: Backend,
  work: Float32Array,
): EaseModel {
  const { lambda, positiveFrom, otherWeight } = candidate;
  const popularity = gram(data.train, { positiveFrom, otherWeight, otherFrom }, work);
  const weights = weightsFrom(work, data.train.nItems, lambda, backend);
  // B stays in the work matrix: a candidate's model is judged before the next one overwrites it, and the
  // model that is kept is fitted last.
  return new EaseModel(
    data.train,
    data.scale,
    weights,
    popularity,
    lambda,
    positiveFrom,
    otherWeight,
    otherFrom,
    backend,
  );
}

/** One point of EASE's search. */
interface Candidate {
  lambda: number;
  positiveFrom: number;
  otherWeight: number;
  [name: string]: number;
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
  forScale: (s, scale) => ({
    ...s,
    // A threshold at the bottom of the scale (every rating on implicit data) is "every rating": one candidate.
    positiveFrom: [
      ...new Set(s.positiveFrom.map((t) => scaledRating(t, scale)).map((t) => (t <= scale.min ? 0 : t))),
    ],
    otherFrom: scaledRating(s.otherFrom, scale),
    relevantFrom: scaledRating(s.relevantFrom, scale),
  }),
  fit(data, settings, { backend }): FitOutcome<EaseModel> {
    const started = performance.now();
    const work = workMatrix(data.train, backend);
    const candidates: Candidate[] = settings.positiveFrom.flatMap((positiveFrom) =>
      (positiveFrom > 0 ? settings.otherWeights : [0]).flatMap((otherWeight) =>
        settings.lambdas.map((lambda) => ({ lambda, positiveFrom, otherWeight })),
      ),
    );
    const trials: NonNullable<FitOutcome["trials"]> = [];
    if (candidates.length > 1) {
      const { fit, validation } = validationSplit(data.train, settings.validation, settings.seed);
      for (const candidate of candidates) {
        const model = fitOne({ ...data, train: fit }, candidate, settings.otherFrom, backend, work);
        const { ndcg } = evaluateRanking(batchedScores(model), fit, validation, {
          k: 10,
          threshold: settings.relevantFrom,
        });
        trials.push({ settings: candidate, metric: "validation NDCG@10", score: ndcg });
      }
      trials.sort((x, y) => y.score - x.score);
    }
    const chosen = (trials[0]?.settings as Candidate) ?? candidates[0];
    const model = fitOne(data, chosen, settings.otherFrom, backend, work);
    const seconds = (performance.now() - started) / 1000;
    return { model, history: [], bestEpoch: 0, seconds, fit: data.train, trials };
  },
  load(saved, { train, scale, backend }) {
    const { lambda, positiveFrom, otherWeight, otherFrom } = configSchema.parse(saved.config);
    const n = train.nItems;
    const weights = backend.arena.f32(n * n);
    weights.set(savedTensor(saved, "ease.weights", "F32", n * n));
    return new EaseModel(
      train,
      scale,
      weights,
      savedTensor(saved, "ease.popularity", "F32", n),
      lambda,
      positiveFrom,
      otherWeight,
      otherFrom,
      backend,
    );
  },
};
