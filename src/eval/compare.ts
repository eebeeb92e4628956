import type { LoadedData } from "../data/load.js";
import type { Backend } from "../kernels/index.js";
import { type Model, predict } from "../model/model.js";
import { fitModel } from "../train/registry.js";
import { type RatingMetrics, ratingMetrics } from "./metrics.js";
import { evaluateRanking, type RankingMetrics, type RankingOptions } from "./ranking.js";

/** One model on one train/test split: rating and ranking metrics, and how long it took. */
export interface RunResult extends RatingMetrics, Omit<RankingMetrics, "users"> {
  model: string;
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

/** Rating and ranking metrics of a fitted `predictor` on the split's test ratings. */
export function measure(
  name: string,
  model: Model,
  data: LoadedData,
  ranking: RankingOptions,
  fitSeconds: number,
): RunResult {
  const started = performance.now();
  const rating = ratingMetrics(predict(model, data.test), data.test.values);
  const { users: _users, ...rankingResult } = evaluateRanking(
    (u) => model.scoreUsers([u]),
    data.train,
    data.test,
    ranking,
  );
  return {
    model: name,
    split: data.split,
    ...rating,
    ...rankingResult,
    fitSeconds,
    testSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * Fits kind `name` with its defaults (seed `seed`) on the split's training ratings and measures rating and
 * ranking metrics on its test ratings.
 */
export function runOne(
  name: string,
  data: LoadedData,
  backend: Backend,
  ranking: RankingOptions,
  seed: number,
  settings?: unknown,
): RunResult {
  const started = performance.now();
  const { model } = fitModel(name, data, { backend, settings, seed });
  return measure(name, model, data, ranking, (performance.now() - started) / 1000);
}

/** Mean and sample standard deviation of one metric over splits. */
export interface Summary {
  mean: number;
  std: number;
}

/** Per model, every metric's mean and standard deviation over the runs. */
export function summarize(
  runs: RunResult[],
): { model: string; runs: number; metrics: Record<MetricKey, Summary> }[] {
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
