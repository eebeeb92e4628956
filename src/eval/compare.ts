import type { LoadedData } from "../data/load.js";
import type { Backend } from "../kernels/index.js";
import { BASELINES, type BaselineKind, fitBaseline, type Predictor } from "../model/baselines.js";
import { fitModel } from "../train/fit.js";
import { fitBlend } from "../train/fit-blend.js";
import { MODEL_DEFAULTS, MODEL_KINDS, type ModelKind } from "../train/presets.js";
import { type RatingMetrics, ratingMetrics } from "./metrics.js";
import { evaluateRanking, type RankingMetrics, type RankingOptions } from "./ranking.js";

/**
 * Every model `aerec evaluate` can compare: the autoencoders with their defaults, three baselines, and a
 * blend of several of them.
 */
export const COMPARABLE_MODELS = [...MODEL_KINDS, ...BASELINES, "blend"] as const;
/** One of COMPARABLE_MODELS. */
export type ComparableModel = (typeof COMPARABLE_MODELS)[number];

/** One model on one train/test split: rating and ranking metrics, and how long it took. */
export interface RunResult extends RatingMetrics, Omit<RankingMetrics, "users"> {
  model: ComparableModel;
  split: string;
  fitSeconds: number;
  testSeconds: number;
}

/** The metrics a comparison table reports, in order. */
export const METRIC_KEYS = [
  "rmse",
  "mae",
  "precision",
  "recall",
  "ndcg",
  "map",
  "hitRate",
  "mrr",
  "coverage",
  "fitSeconds",
  "testSeconds",
] as const;
/** One of METRIC_KEYS. */
export type MetricKey = (typeof METRIC_KEYS)[number];

/** Trains `model` on data.train with its defaults (validation carved from training only). */
export function fitComparable(
  model: ComparableModel,
  data: LoadedData,
  backend: Backend,
  seed: number,
): Predictor {
  if (model === "blend") return fitBlend(data, backend, { seed }).blend;
  if ((BASELINES as readonly string[]).includes(model))
    return fitBaseline(model as BaselineKind, data.train, data.scale);
  const settings = MODEL_DEFAULTS[model as ModelKind];
  return fitModel(data, { ...settings, train: { ...settings.train, seed } }, backend).model;
}

/** Rating and ranking metrics of a fitted `predictor` on the split's test ratings. */
export function measure(
  model: ComparableModel,
  predictor: Predictor,
  data: LoadedData,
  ranking: RankingOptions,
  fitSeconds: number,
): RunResult {
  const started = performance.now();
  const rating = ratingMetrics(predictor.predict(data.test), data.test.values);
  const { users: _users, ...rankingResult } = evaluateRanking(
    (u) => predictor.scoreAll(u),
    data.train,
    data.test,
    ranking,
  );
  return {
    model,
    split: data.split,
    ...rating,
    ...rankingResult,
    fitSeconds,
    testSeconds: (performance.now() - started) / 1000,
  };
}

/** Fits `model` on the split's training ratings and measures rating and ranking metrics on its test ratings. */
export function runOne(
  model: ComparableModel,
  data: LoadedData,
  backend: Backend,
  ranking: RankingOptions,
  seed: number,
): RunResult {
  const started = performance.now();
  const predictor = fitComparable(model, data, backend, seed);
  return measure(model, predictor, data, ranking, (performance.now() - started) / 1000);
}

/** Mean and sample standard deviation of one metric over splits. */
export interface Summary {
  mean: number;
  std: number;
}

/** Per model, every metric's mean and standard deviation over the runs. */
export function summarize(
  runs: RunResult[],
): { model: ComparableModel; runs: number; metrics: Record<MetricKey, Summary> }[] {
  const models = [...new Set(runs.map((r) => r.model))];
  return models.map((model) => {
    const mine = runs.filter((r) => r.model === model);
    const metrics = Object.fromEntries(
      METRIC_KEYS.map((key) => {
        const xs = mine.map((r) => r[key]);
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const variance = xs.length > 1 ? xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1) : 0;
        return [key, { mean, std: Math.sqrt(variance) }];
      }),
    ) as Record<MetricKey, Summary>;
    return { model, runs: mine.length, metrics };
  });
}
