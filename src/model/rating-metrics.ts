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
