import type { LoadedData } from "../data/load.js";
import type { HeldOutUser } from "../data/splits.js";
import type { Backend } from "../kernels/index.js";
import { batchedScores, type Model, predict } from "../model/model.js";
import { topK } from "../model/recommend.js";
import { fitModel } from "../train/registry.js";
import { type RatingMetrics, ratingMetrics } from "./metrics.js";
import {
  type RankedList,
  type RankingMetrics,
  type RankingOptions,
  rankedLists,
  rankingMetrics,
} from "./ranking.js";

/** One model on one train/test split: rating and ranking metrics, and how long it took. */
export interface RunResult extends RatingMetrics, Omit<RankingMetrics, "users"> {
  model: string;
  split: string;
  /** Recall at 20 and 50 and NDCG at 100 (beside the metrics at the run's K). */
  recall20: number;
  recall50: number;
  ndcg100: number;
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
  "recall20",
  "recall50",
  "ndcg100",
  "map",
  "hitRate",
  "mrr",
  "coverage",
  "fitSeconds",
  "testSeconds",
] as const;
/** One of METRIC_KEYS. */
export type MetricKey = (typeof METRIC_KEYS)[number];

/** The ranking metrics of a run from its users' lists (at least 100 long): at K, and at 20, 50 and 100. */
function rankingOf(lists: RankedList[], k: number, nItems: number, cappedRecall: boolean) {
  const { users: _users, ...atK } = rankingMetrics(lists, k, nItems, cappedRecall);
  return {
    ...atK,
    recall20: rankingMetrics(lists, 20, nItems, cappedRecall).recall,
    recall50: rankingMetrics(lists, 50, nItems, cappedRecall).recall,
    ndcg100: rankingMetrics(lists, 100, nItems, cappedRecall).ndcg,
  };
}

/**
 * Rating and ranking metrics of a fitted `model` on the split's test ratings (aerec's protocol: every
 * movie a user did not rate in training is a candidate). A top-N model predicts no ratings: its RMSE and
 * MAE are NaN.
 */
export function measure(
  name: string,
  model: Model,
  data: LoadedData,
  ranking: RankingOptions,
  fitSeconds: number,
): RunResult {
  const started = performance.now();
  const rating = model.ranksOnly
    ? { rmse: Number.NaN, mae: Number.NaN }
    : ratingMetrics(predict(model, data.test), data.test.values);
  const depth = Math.max(ranking.k, 100);
  const lists = rankedLists(batchedScores(model), data.train, data.test, ranking.threshold, depth);
  return {
    model: name,
    split: data.split,
    ...rating,
    ...rankingOf(lists, ranking.k, data.train.nItems, false),
    fitSeconds,
    testSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * Ranking metrics for users the model never saw (strong generalisation, see holdOutUsers): each one's
 * fold-in positives are his ratings, every other movie is a candidate, and recall divides by min(K, the
 * positives to find), as the Mult-VAE paper does. No rating metric is measured (NaN).
 */
export function measureHeldOut(
  name: string,
  model: Model,
  heldOut: HeldOutUser[],
  split: string,
  ranking: RankingOptions,
  fitSeconds: number,
): RunResult {
  const started = performance.now();
  const depth = Math.max(ranking.k, 100);
  const lists = heldOut.map((h) => ({
    recommended: topK(model.foldIn(h.items, h.values), depth, h.items).map((r) => r.item),
    relevant: h.target,
  }));
  return {
    model: name,
    split,
    rmse: Number.NaN,
    mae: Number.NaN,
    ...rankingOf(lists, ranking.k, model.train.nItems, true),
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
