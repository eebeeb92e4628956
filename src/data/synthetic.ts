import { Rng } from "./random.js";
import { Ratings } from "./ratings.js";

/** The shape of a synthetic data set. */
export interface SyntheticShape {
  nUsers: number;
  nItems: number;
  nRatings: number;
  /** Every user gets at least this many ratings. */
  minPerUser: number;
  /** Zipf exponent of item popularity (0 = uniform; about 1 = MovieLens-like long tail). */
  popularitySkew: number;
  seed: number;
}

/** Named shapes: `ml-1m` (ML-1M's counts) and `ml-32m` (ML-32M's counts). */
export const SYNTHETIC_PRESETS: Record<string, SyntheticShape> = {
  "ml-1m": { nUsers: 6040, nItems: 3706, nRatings: 1_000_209, minPerUser: 20, popularitySkew: 1, seed: 1 },
  "ml-32m": {
    nUsers: 200_948,
    nItems: 87_585,
    nRatings: 32_000_204,
    minPerUser: 20,
    popularitySkew: 1,
    seed: 1,
  },
};

/**
 * Parses what follows `synthetic:`: a preset name, or `users=U,items=I,ratings=N[,min=M][,skew=S][,seed=X]`.
 */
export function parseSyntheticShape(text: string): SyntheticShape {
  const preset = SYNTHETIC_PRESETS[text];
  if (preset) return { ...preset };
  const shape: SyntheticShape = {
    nUsers: 0,
    nItems: 0,
    nRatings: 0,
    minPerUser: 1,
    popularitySkew: 1,
    seed: 1,
  };
  const keys: Record<string, keyof SyntheticShape> = {
    users: "nUsers",
    items: "nItems",
    ratings: "nRatings",
    min: "minPerUser",
    skew: "popularitySkew",
    seed: "seed",
  };
  for (const part of text.split(",")) {
    const [key, value] = part.split("=");
    const field = keys[key];
    const number = Number(value);
    if (!field || value === undefined || !Number.isFinite(number) || number < 0) {
      throw new Error(
        `bad synthetic shape "${text}": use a preset (${Object.keys(SYNTHETIC_PRESETS).join(", ")}) or ` +
          "users=U,items=I,ratings=N[,min=M][,skew=S][,seed=X]",
      );
    }
    shape[field] = number;
  }
  checkShape(shape);
  return shape;
}

function checkShape(s: SyntheticShape): void {
  const why =
    !(s.nUsers >= 1 && s.nItems >= 1) || !Number.isInteger(s.nUsers) || !Number.isInteger(s.nItems)
      ? "users and items must be positive integers"
      : s.nRatings < s.nUsers * s.minPerUser
        ? `ratings must be at least users x min (${s.nUsers * s.minPerUser})`
        : s.nRatings > s.nUsers * s.nItems
          ? "ratings cannot exceed users x items"
          : s.minPerUser > s.nItems
            ? "min cannot exceed items"
            : null;
  if (why) throw new Error(`bad synthetic shape: ${why}`);
}

const FACTORS = 8;

/**
 * Generates ratings of the given shape: per-user counts long-tailed around the mean (at least the minimum,
 * at most every item), items drawn without replacement by Zipf popularity, and 1..5 star values from a
 * low-rank model (global mean + user and item biases + 8 latent factors + noise), so models have something
 * to learn. Deterministic for a given shape and seed.
 */
export function generateRatings(shape: SyntheticShape): Ratings {
  checkShape(shape);
  const { nUsers, nItems, nRatings, seed } = shape;
  const rng = new Rng(seed);
  const counts = userCounts(shape, rng);

  const rank = new Int32Array(nItems);
  for (let i = 0; i < nItems; i++) rank[i] = i;
  rng.shuffle(rank);
  const cdf = new Float64Array(nItems);
  let total = 0;
  for (let i = 0; i < nItems; i++) {
    total += 1 / (rank[i] + 1) ** shape.popularitySkew;
    cdf[i] = total;
  }
  const itemBias = new Float32Array(nItems);
  const itemFactors = new Float32Array(nItems * FACTORS);
  for (let i = 0; i < nItems; i++) {
    itemBias[i] = 0.3 * rng.normal() + 0.25 * (1 - Math.log1p(rank[i]) / Math.log1p(nItems));
    for (let f = 0; f < FACTORS; f++) itemFactors[i * FACTORS + f] = 0.3 * rng.normal();
  }

  const users = new Int32Array(nRatings);
  const items = new Int32Array(nRatings);
  const values = new Float32Array(nRatings);
  const taken = new Int32Array(nItems).fill(-1);
  const userFactors = new Float32Array(FACTORS);
  let k = 0;
  for (let u = 0; u < nUsers; u++) {
    const bias = 0.4 * rng.normal();
    for (let f = 0; f < FACTORS; f++) userFactors[f] = 0.3 * rng.normal();
    const chosen = sampleItems(counts[u], cdf, taken, u, rng);
    for (const i of chosen) {
      let score = 3.55 + bias + itemBias[i] + 0.5 * rng.normal();
      for (let f = 0; f < FACTORS; f++) score += userFactors[f] * itemFactors[i * FACTORS + f] * 4;
      users[k] = u;
      items[k] = i;
      values[k] = Math.min(5, Math.max(1, Math.round(score)));
      k++;
    }
  }
  return new Ratings(users, items, values, nUsers, nItems);
}

/** Long-tailed per-user counts (log-normal weights) that sum exactly to nRatings. */
function userCounts(shape: SyntheticShape, rng: Rng): Int32Array {
  const { nUsers, nItems, nRatings, minPerUser } = shape;
  const weights = new Float64Array(nUsers);
  let sum = 0;
  for (let u = 0; u < nUsers; u++) {
    weights[u] = Math.exp(1.1 * rng.normal());
    sum += weights[u];
  }
  const counts = new Int32Array(nUsers);
  let left = nRatings;
  for (let u = 0; u < nUsers; u++) {
    counts[u] = Math.min(
      nItems,
      minPerUser + Math.floor(((nRatings - nUsers * minPerUser) * weights[u]) / sum),
    );
    left -= counts[u];
  }
  // Rounding and the per-user cap leave a remainder: hand it out one at a time to users with room.
  for (let u = 0; left > 0; u = (u + 1) % nUsers) {
    if (counts[u] < nItems) {
      counts[u]++;
      left--;
    }
  }
  return counts;
}

/** `count` distinct items by popularity: rejection sampling, or exponential keys when most items are needed. */
function sampleItems(
  count: number,
  cdf: Float64Array,
  taken: Int32Array,
  stamp: number,
  rng: Rng,
): Int32Array {
  const nItems = cdf.length;
  const out = new Int32Array(count);
  const total = cdf[nItems - 1];
  let n = 0;
  for (let tries = 0; n < count && tries < 20 * count + 100; tries++) {
    const x = rng.float() * total;
    let lo = 0;
    let hi = nItems - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    if (taken[lo] !== stamp) {
      taken[lo] = stamp;
      out[n++] = lo;
    }
  }
  if (n < count) {
    // Efraimidis-Spirakis: the items with the largest u^(1/w) form a weighted sample without replacement.
    const keys: { item: number; key: number }[] = [];
    for (let i = 0; i < nItems; i++) {
      if (taken[i] === stamp) continue;
      const w = cdf[i] - (i > 0 ? cdf[i - 1] : 0);
      keys.push({ item: i, key: Math.log(1 - rng.float()) / w });
    }
    keys.sort((a, b) => b.key - a.key);
    for (let t = 0; n < count; t++) out[n++] = keys[t].item;
  }
  return out.sort();
}
