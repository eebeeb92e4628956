import type { z } from "zod";
import type { RatingScale } from "../data/datasets.js";
import type { Ratings } from "../data/ratings.js";
import type { Backend } from "../kernels/index.js";
import { fallbackRating, type RatingMeans, ratingMeans } from "./means.js";

/** A tensor as a model saves it or reads it back: float32 or int32, row-major. */
export interface Tensor {
  dtype: "F32" | "I32";
  shape: number[];
  data: Float32Array | Int32Array;
}

/** What a model keeps in its file besides the training ratings: a JSON configuration and named tensors. */
export interface SavedParameters {
  /** Everything that fixes the model's function besides its tensors; validated by its kind's configSchema. */
  config: unknown;
  tensors: Record<string, Tensor>;
}

/**
 * A trained recommender model. Every kind implements this (the autoencoders, the baselines, the blend), so
 * evaluation, recommendation, model files and the service treat them alike. Users and items are dense
 * indices of the training ratings' index space.
 */
export interface Model {
  /** The registry name of this model's kind. */
  readonly kind: string;
  /**
   * True for top-N models, whose scores rank items but are no ratings (their estimates are a fallback, not
   * an opinion); the recommender then takes predicted stars from a rating model beside it, if any.
   */
  readonly ranksOnly?: boolean;
  /** The training ratings (users x items) the model reads; a user's row is what he is known to have rated. */
  readonly train: Ratings;
  readonly scale: RatingScale;
  /**
   * Raw estimates for every (user, item) of `pairs`, in its order, unclipped. predict() replaces the
   * estimates of users or items with no training ratings by the documented fallback and clips the rest, so a
   * model needs to handle neither.
   */
  estimate(pairs: Ratings): Float32Array;
  /**
   * A score for every item for each of `users`: [users.length][nItems], higher is better, unclipped (so that
   * it ranks past the scale's top). The returned array may be a view that the next call overwrites.
   */
  scoreUsers(users: ArrayLike<number>): Float32Array;
  /**
   * Scores every item for someone the model has not seen, from his ratings alone (dense item indices and
   * ratings), without retraining. Throws on an empty list.
   */
  foldIn(items: ArrayLike<number>, values: ArrayLike<number>): Float32Array;
  /** One vector per item (for similar items and "because you rated"): [nItems][size]. */
  itemVectors(): { vectors: Float32Array; size: number };
  /**
   * Why each of `candidates` scores as it does for someone who rated `items` with `values` (dense indices):
   * per candidate, the index into `items` of the rating that raises its score most, or -1 when none does.
   * Models without such an account leave it out, and the recommender falls back to item similarity.
   */
  explain?(candidates: ArrayLike<number>, items: ArrayLike<number>, values: ArrayLike<number>): Int32Array;
  /** One line for people: what the model is. */
  describe(): string;
  /** The configuration and tensors that loadModel needs to rebuild this model. */
  save(): SavedParameters;
}

/** What a model trains on: ratings in one dense index space, on one rating scale. */
export interface TrainingSet {
  train: Ratings;
  scale: RatingScale;
  /** Interactions without ratings (every one a positive): only top-N models can learn from them. */
  implicit?: boolean;
}

/** What one epoch of an iterative fit did. */
export interface EpochReport {
  epoch: number;
  /** Training loss: the RMSE over the training ratings, or the tutorial's own loss for its preset. */
  trainLoss: number;
  /** RMSE on the validation ratings (clipped predictions), when validation ratings were given. */
  validationRmse?: number;
  /** Top-N models: NDCG@10 of the validation ratings, what they early-stop on. */
  validationNdcg?: number;
  seconds: number;
  /** L-BFGS: objective evaluations (full passes over the ratings) this epoch took. */
  evaluations?: number;
  /** The most epochs the run this epoch belongs to can take (it may stop early). */
  epochs?: number;
  /**
   * Which run, when a fit trains more than once: "refit" for the final run on every training rating, or a
   * trial's setting ("betaCap 0.2"). Absent for the (first) run that history describes.
   */
  phase?: string;
  /** Which stage of a fit trained in stages (GLocal-K: "pre-training", then "fine-tuning"). */
  stage?: string;
}

/** A trained model with how it was trained. */
export interface FitOutcome<M extends Model = Model> {
  model: M;
  /** One report per epoch for iterative fits; empty for closed-form ones. */
  history: EpochReport[];
  /** The epoch whose parameters the model holds (0 for closed-form fits). */
  bestEpoch: number;
  /** Seconds spent fitting, everything included. */
  seconds: number;
  /** Why training ended before its last epoch, if it did. */
  stopped?: string;
  /** Seconds spent training again on all training ratings (included in `seconds`), when refitting. */
  refitSeconds?: number;
  /** The ratings the model was trained on before any refit (training minus validation). */
  fit: Ratings;
  /** The held-out validation ratings, when the kind early-stops on some. */
  validation?: Ratings;
  /** Predictions for `validation` made before any model read those ratings (to judge or blend honestly). */
  validationPredictions?: Float32Array;
  /** State that lets `aerec train --resume` continue exactly (first-order autoencoder training only). */
  checkpoint?: unknown;
  /** The settings a fit chose among on validation ratings, each with its score, best first. */
  trials?: { settings: Record<string, number>; metric: string; score: number }[];
}

/** What a fit may use besides the data and settings. */
export interface FitContext {
  backend: Backend;
  /** Called after each epoch of an iterative fit. */
  onEpoch?: (report: EpochReport) => void;
  /** A checkpoint saved by an earlier fit of the same kind and settings, to continue from. */
  resume?: unknown;
  /** Looks up another kind by name (a blend fits its members through it). */
  kinds?: (name: string) => ModelKind;
}

/** What a kind's loader gets back from a model file. */
export interface LoadContext {
  backend: Backend;
  train: Ratings;
  scale: RatingScale;
  /** Looks up another kind by name (a blend loads its members through it). */
  kinds: (name: string) => ModelKind;
}

/**
 * Changes to a kind's default settings that people ask for by name (the CLI's flags, tune's grid). A kind
 * applies those it has and refuses the others with a message that names them (see unsupported()).
 */
export interface SettingOverrides {
  epochs?: number;
  seed?: number;
  hidden?: number[];
  activation?: string;
  optimizer?: string;
  lr?: number;
  lambda?: number;
  weightDecay?: number;
  batchSize?: number;
  dropout?: number;
  inputDropout?: number;
  inputScaling?: string;
  inputOffset?: number;
  validation?: number;
  patience?: number;
  refit?: boolean;
  /** Fits averaged, each from its own seed. */
  runs?: number;
  refeed?: boolean;
  tied?: boolean;
  /** The blend's members, by kind name. */
  members?: string[];
  /** Top-N models: a rating from which a training rating counts as a positive (0: every rating). */
  positiveFrom?: number;
}

/** Every field a SettingOverrides may carry. */
export const OVERRIDE_FIELDS: readonly (keyof SettingOverrides)[] = [
  "epochs",
  "seed",
  "hidden",
  "activation",
  "optimizer",
  "lr",
  "lambda",
  "weightDecay",
  "batchSize",
  "dropout",
  "inputDropout",
  "inputScaling",
  "inputOffset",
  "validation",
  "patience",
  "refit",
  "runs",
  "refeed",
  "tied",
  "members",
  "positiveFrom",
];

/** The outcome of a fit with no epochs: `build()` timed, on every training rating. */
export function closedFormFit<M extends Model>(data: TrainingSet, build: () => M): FitOutcome<M> {
  const started = performance.now();
  const model = build();
  return { model, history: [], bestEpoch: 0, seconds: (performance.now() - started) / 1000, fit: data.train };
}

/**
 * Throws when `overrides` sets any field a kind does not have (`supported` lists those it has). Every kind
 * takes a seed: deterministic ones ignore it.
 */
export function unsupported(kind: string, overrides: SettingOverrides, supported: readonly string[]): void {
  const others = Object.entries(overrides)
    .filter(([key, value]) => value !== undefined && key !== "seed" && !supported.includes(key))
    .map(([key]) => key);
  if (others.length > 0) {
    throw new Error(
      `${others.join(", ")} ${others.length > 1 ? "do" : "does"} not apply to ${kind}` +
        ` (it takes ${supported.length > 0 ? supported.join(", ") : "no settings"})`,
    );
  }
}

/**
 * One kind of model in the registry: its name, defaults and the zod schemas of its settings and saved
 * configuration, how to fit it and how to rebuild it from a model file. Settings are validated by
 * `settingsSchema` at every boundary (flags, files), so fit and load can trust their types.
 */
export interface ModelKind<S = unknown, M extends Model = Model> {
  readonly name: string;
  /** One line for --help and the README's model table. */
  readonly summary: string;
  /** "rating": predicts stars, judged by RMSE; "top-n": ranks what to show. */
  readonly family: "rating" | "top-n";
  readonly settingsSchema: z.ZodType<S>;
  readonly defaults: S;
  /** Zod schema of what `Model.save().config` holds, checked when a model file is read. */
  readonly configSchema: z.ZodType<unknown>;
  /** `defaults` (or `base`) with `overrides` applied; throws naming any override the kind does not take. */
  override(overrides: SettingOverrides, base?: S): S;
  /**
   * `settings` with their rating thresholds (set on 1..5 stars) moved to `scale` (see scaledRating), for
   * kinds whose settings name ratings; the defaults go through it before any override is applied.
   */
  forScale?(settings: S, scale: RatingScale): S;
  /** Fits on `data.train` (holding out validation ratings from it when the kind early-stops). */
  fit(data: TrainingSet, settings: S, context: FitContext): FitOutcome<M>;
  /** Rebuilds a model from what save() wrote (the config already checked against configSchema). */
  load(saved: SavedParameters, context: LoadContext): M;
}

/** A kind's defaults with their rating thresholds moved to `scale` (ModelKind.forScale). */
export function defaultsOn<S>(kind: ModelKind<S>, scale: RatingScale): S {
  return kind.forScale ? kind.forScale(kind.defaults, scale) : kind.defaults;
}

const meansOf = new WeakMap<Ratings, RatingMeans>();

/** The training means of `train`, computed once per ratings object. */
export function cachedMeans(train: Ratings): RatingMeans {
  let means = meansOf.get(train);
  if (!means) {
    means = ratingMeans(train);
    meansOf.set(train, means);
  }
  return means;
}

/**
 * Each pair's user's training mean (the global mean for a user with none): the estimates of top-N models,
 * which rank and hold no opinion on stars.
 */
export function userMeanEstimates(train: Ratings, pairs: Ratings): Float32Array {
  const { user, global } = cachedMeans(train);
  return Float32Array.from({ length: pairs.size }, (_, k) => {
    const m = user[pairs.users[k]];
    return Number.isNaN(m) ? global : m;
  });
}

/**
 * A per-user score function over `model.scoreUsers` that scores `batch` users per call: for callers that
 * visit users in ascending order (the ranking metrics), so that batched kernels see whole batches.
 */
export function batchedScores(model: Model, batch = 256): (user: number) => Float32Array {
  const n = model.train.nItems;
  let cached = { start: -1, end: -1, scores: new Float32Array(0) as Float32Array };
  return (user) => {
    if (user < cached.start || user >= cached.end) {
      const end = Math.min(model.train.nUsers, user + batch);
      const users = Array.from({ length: Math.max(1, end - user) }, (_, b) => user + b);
      cached = { start: user, end: user + users.length, scores: model.scoreUsers(users) };
    }
    const at = (user - cached.start) * n;
    return cached.scores.subarray(at, at + n);
  };
}

/** `x` clipped to the rating scale. */
export function clipToScale(x: number, scale: RatingScale): number {
  return Math.min(scale.max, Math.max(scale.min, x));
}

/**
 * Predictions of `model` for every (user, item) of `pairs`, in its order: its estimates clipped to the
 * rating scale; a user with no training ratings gets the item's training mean, an item with none the user's
 * mean, and the global mean when neither is known (see fallbackRating). This is the one place where
 * predictions are clipped and fallbacks applied.
 */
export function predict(model: Model, pairs: Ratings): Float32Array {
  const means = cachedMeans(model.train);
  const out = new Float32Array(pairs.size);
  const asked: number[] = [];
  for (let k = 0; k < pairs.size; k++) {
    const fallback = fallbackRating(means, pairs.users[k], pairs.items[k]);
    if (Number.isNaN(fallback)) asked.push(k);
    else out[k] = clipToScale(fallback, model.scale);
  }
  // Only pairs the model can speak for reach it, so no model sees an index outside its training ratings.
  const known = asked.length === pairs.size ? pairs : pairs.select(asked);
  const raw = model.estimate(known);
  asked.forEach((k, q) => {
    out[k] = clipToScale(raw[q], model.scale);
  });
  return out;
}

/** The tensor `name` of a saved model, checked to be `dtype` with `length` values; throws naming it otherwise. */
export function savedTensor<D extends Tensor["dtype"]>(
  saved: SavedParameters,
  name: string,
  dtype: D,
  length: number,
): D extends "F32" ? Float32Array : Int32Array {
  const t = saved.tensors[name];
  if (!t) throw new Error(`tensor ${name} is missing`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.dtype !== dtype || n !== length)
    throw new Error(`tensor ${name} is ${t.dtype}[${t.shape}], expected ${dtype} with ${length} values`);
  for (let i = 0; i < t.data.length; i++)
    if (!Number.isFinite(t.data[i])) throw new Error(`tensor ${name} holds NaN or infinite values`);
  return t.data as D extends "F32" ? Float32Array : Int32Array;
}

/** The tensors whose names start with `prefix`, under their names without it (a model saved inside another). */
export function tensorsUnder(tensors: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  return Object.fromEntries(
    Object.entries(tensors)
      .filter(([name]) => name.startsWith(prefix))
      .map(([name, t]) => [name.slice(prefix.length), t]),
  );
}

/** A float32 tensor of shape `shape` over a copy of `data`. */
export function f32Tensor(data: ArrayLike<number>, shape: number[] = [data.length]): Tensor {
  return { dtype: "F32", shape, data: Float32Array.from(data) };
}
