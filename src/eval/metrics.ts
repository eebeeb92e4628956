import type { Csr } from "../data/ratings.js";

export { type RatingMetrics, ratingMetrics } from "../model/rating-metrics.js";

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
