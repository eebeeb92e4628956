import type { Ratings } from "../data/ratings.js";

/** Training means, the fallback for users or movies a model has not seen. */
export interface RatingMeans {
  global: number;
  /** Mean per user; NaN for a user with no training ratings. */
  user: Float32Array;
  /** Mean per movie; NaN for a movie with no training ratings. */
  item: Float32Array;
}

/** Global, per-user and per-movie means of `ratings`. */
export function ratingMeans(ratings: Ratings): RatingMeans {
  const user = new Float64Array(ratings.nUsers);
  const userN = new Int32Array(ratings.nUsers);
  const item = new Float64Array(ratings.nItems);
  const itemN = new Int32Array(ratings.nItems);
  for (let k = 0; k < ratings.size; k++) {
    user[ratings.users[k]] += ratings.values[k];
    userN[ratings.users[k]]++;
    item[ratings.items[k]] += ratings.values[k];
    itemN[ratings.items[k]]++;
  }
  return {
    global: ratings.mean(),
    user: Float32Array.from(user, (s, u) => (userN[u] > 0 ? s / userN[u] : Number.NaN)),
    item: Float32Array.from(item, (s, i) => (itemN[i] > 0 ? s / itemN[i] : Number.NaN)),
  };
}

/**
 * The fallback prediction for (user, item) when the model cannot speak for the pair: the movie's mean for a
 * user with no training ratings, the user's mean for a movie with no training ratings, the global mean when
 * neither is known.
 */
export function fallbackRating(means: RatingMeans, user: number, item: number): number {
  const u = user < means.user.length ? means.user[user] : Number.NaN;
  const i = item < means.item.length ? means.item[item] : Number.NaN;
  if (Number.isNaN(u)) return Number.isNaN(i) ? means.global : i;
  return Number.isNaN(i) ? u : Number.NaN;
}
