import type { Csr } from "../data/ratings.js";

/** Error of predicted ratings against actual ones, over every rating. */
export interface RatingMetrics {
  /** sqrt(mean((predicted - actual)^2)). */
  rmse: number;
  /** mean(|predicted - actual|). */
  mae: number;
}

/** RMSE and MAE over all pairs; NaN for empty input. */
export function ratingMetrics(predicted: ArrayLike<number>, actual: ArrayLike<number>): RatingMetrics {
  if (predicted.length !== actual.length) throw new Error("predicted and actual ratings differ in length");
  let sq = 0;
  let abs = 0;
  for (let k = 0; k < actual.length; k++) {
    const e = predicted[k] - actual[k];
    sq += e * e;
    abs += Math.abs(e);
  }
  const n = actual.length;
  return { rmse: Math.sqrt(sq / n), mae: abs / n };
}

/**
 * The tutorial's own "test loss": for each user with test ratings, sqrt(mean squared error over his test
 * ratings) of the unclipped model output, averaged over those users. `raw` is in the CSR order of `targets`.
 */
export function tutorialLoss(raw: ArrayLike<number>, targets: Csr): number {
  let sum = 0;
  let users = 0;
  for (let u = 0; u < targets.nRows; u++) {
    const [start, end] = [targets.indptr[u], targets.indptr[u + 1]];
    if (start === end) continue;
    let sq = 0;
    for (let k = start; k < end; k++) {
      const e = raw[k] - targets.values[k];
      sq += e * e;
    }
    sum += Math.sqrt(sq / (end - start));
    users++;
  }
  return users > 0 ? sum / users : Number.NaN;
}
