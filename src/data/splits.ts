import { permutation, Rng } from "./random.js";
import { IdMap, Ratings, type RawId } from "./ratings.js";

/** How to split ratings into train and test. */
export type SplitSpec =
  | { kind: "predefined"; name: string }
  | { kind: "ratio"; trainFraction: number }
  | { kind: "kfold"; k: number; fold: number }
  | { kind: "time"; trainFraction: number; perUser: boolean };

/**
 * Parses a split name: `u1`..`u5`, `ua`, `ub` (ML-100K's own files), `ratio:F` (a seeded random F of the
 * ratings for training, the AutoRec papers' protocol with F = 0.9), `kfold:K:I` (fold I of K, 1-based),
 * `time:F` (each user's earliest F of his ratings for training, his latest for test) or `time-global:F`
 * (the earliest F of all ratings for training: one cut-off time for everyone).
 */
export function parseSplit(text: string): SplitSpec {
  if (/^u[1-5ab]$/.test(text)) return { kind: "predefined", name: text };
  const time = /^(time|time-global):(0?\.\d+)$/.exec(text);
  if (time && Number(time[2]) > 0)
    return { kind: "time", trainFraction: Number(time[2]), perUser: time[1] === "time" };
  const ratio = /^ratio:(0?\.\d+|1(?:\.0*)?|0)$/.exec(text);
  if (ratio) {
    const f = Number(ratio[1]);
    if (f > 0 && f < 1) return { kind: "ratio", trainFraction: f };
  }
  const kfold = /^kfold:(\d+):(\d+)$/.exec(text);
  if (kfold) {
    const k = Number(kfold[1]);
    const fold = Number(kfold[2]);
    if (k >= 2 && fold >= 1 && fold <= k) return { kind: "kfold", k, fold };
  }
  throw new Error(
    `bad split "${text}": use u1..u5, ua or ub (ML-100K), ratio:F with 0 < F < 1 (e.g. ratio:0.9), kfold:K:I (fold I of K), time:F (each user's latest ratings for test) or time-global:F`,
  );
}

/** Train and test parts of one set of ratings. */
export interface TrainTest {
  train: Ratings;
  test: Ratings;
}

/** A seeded random split: `fraction` of the ratings (rounded) go to train, the rest to test. */
export function ratioSplit(ratings: Ratings, fraction: number, seed: number): TrainTest {
  const order = permutation(ratings.size, new Rng(seed));
  const nTrain = Math.round(fraction * ratings.size);
  return { train: ratings.select(order.subarray(0, nTrain)), test: ratings.select(order.subarray(nTrain)) };
}

/**
 * A split by time: with `perUser`, each user's earliest `fraction` of his ratings (rounded; ties in file
 * order) train and the rest test; without, the earliest `fraction` of all ratings train. Needs timestamps.
 */
export function timeSplit(ratings: Ratings, fraction: number, perUser: boolean): TrainTest {
  const { times } = ratings;
  if (!times) throw new Error("a time split needs a timestamp column, and these ratings have none");
  const byTime = (a: number, b: number) => times[a] - times[b] || a - b;
  const train: number[] = [];
  const test: number[] = [];
  const cut = (positions: number[]) => {
    positions.sort(byTime);
    const n = Math.round(fraction * positions.length);
    for (let i = 0; i < positions.length; i++) (i < n ? train : test).push(positions[i]);
  };
  if (!perUser) cut(Array.from({ length: ratings.size }, (_, k) => k));
  else {
    const groups: number[][] = Array.from({ length: ratings.nUsers }, () => []);
    for (let k = 0; k < ratings.size; k++) groups[ratings.users[k]].push(k);
    for (const g of groups) cut(g);
  }
  return { train: ratings.select(train), test: ratings.select(test) };
}

/** Fold `fold` (1-based) of a seeded k-fold partition: that fold is the test part, the others train. */
export function kfoldSplit(ratings: Ratings, k: number, fold: number, seed: number): TrainTest {
  const order = permutation(ratings.size, new Rng(seed));
  const lo = Math.floor(((fold - 1) * ratings.size) / k);
  const hi = Math.floor((fold * ratings.size) / k);
  const train = new Int32Array(ratings.size - (hi - lo));
  train.set(order.subarray(0, lo));
  train.set(order.subarray(hi), lo);
  return { train: ratings.select(train), test: ratings.select(order.subarray(lo, hi)) };
}

/**
 * Carves a validation part out of training ratings for early stopping and hyper-parameter choice:
 * a seeded random `fraction` goes to `validation`, the rest to `fit`. The test part is never touched.
 */
export function validationSplit(
  train: Ratings,
  fraction: number,
  seed: number,
): { fit: Ratings; validation: Ratings } {
  const { train: fit, test: validation } = ratioSplit(train, 1 - fraction, seed ^ 0x5eed);
  return { fit, validation };
}

/** One held-out user of the strong-generalisation protocol: what he shows the model, and what it must find. */
export interface HeldOutUser {
  user: number;
  /** The positives folded in (dense items and their ratings). */
  items: Int32Array;
  values: Float32Array;
  /** The other positives, to be found. */
  target: Set<number>;
}

/**
 * Strong generalisation (Liang et al., WWW 2018): `nHeldOut` seeded users, drawn among those with at least
 * 5 positives (ratings of at least `threshold`), are taken out of the training ratings whole; of each one's
 * positives a seeded `foldIn` share (at least one) is shown to the model as a new person's ratings and the
 * rest are to be found. The models train on the other users' ratings only.
 */
export function holdOutUsers(
  ratings: Ratings,
  nHeldOut: number,
  threshold: number,
  seed: number,
  foldIn = 0.8,
): { train: Ratings; heldOut: HeldOutUser[] } {
  const csr = ratings.byUser();
  const positives = (u: number) => {
    const out: number[] = [];
    for (let k = csr.indptr[u]; k < csr.indptr[u + 1]; k++) if (csr.values[k] >= threshold) out.push(k);
    return out;
  };
  const eligible: number[] = [];
  for (let u = 0; u < csr.nRows; u++) if (positives(u).length >= 5) eligible.push(u);
  if (nHeldOut < 1 || nHeldOut >= eligible.length) {
    throw new Error(
      `--holdout-users ${nHeldOut}: choose from 1 to ${eligible.length - 1} (${eligible.length} users have 5 positives or more)`,
    );
  }
  const rng = new Rng(seed ^ 0x40ed);
  const chosen = rng
    .shuffle(eligible.slice())
    .slice(0, nHeldOut)
    .sort((a, b) => a - b);
  const out = new Set(chosen);
  const heldOut = chosen.map((user) => {
    const mine = rng.shuffle(positives(user));
    const nShown = Math.max(1, Math.min(mine.length - 1, Math.round(foldIn * mine.length)));
    const shown = mine.slice(0, nShown);
    return {
      user,
      items: Int32Array.from(shown, (k) => csr.indices[k]),
      values: Float32Array.from(shown, (k) => csr.values[k]),
      target: new Set(mine.slice(nShown).map((k) => csr.indices[k])),
    };
  });
  const kept: number[] = [];
  for (let k = 0; k < ratings.size; k++) if (!out.has(ratings.users[k])) kept.push(k);
  return { train: ratings.select(kept), heldOut };
}

/**
 * `data` restricted to the items with at least `minRatings` training ratings: the others leave the
 * catalogue (and the test ratings), and items are numbered anew in raw-id order. For models whose memory
 * grows with the square of the catalogue (EASE).
 */
export function keepItemsRatedAtLeast<D extends { itemIds: IdMap; train: Ratings; test: Ratings }>(
  data: D,
  minRatings: number,
): D {
  const counts = new Int32Array(data.train.nItems);
  for (let k = 0; k < data.train.size; k++) counts[data.train.items[k]]++;
  const newIndex = new Int32Array(counts.length).fill(-1);
  const kept: RawId[] = [];
  counts.forEach((c, i) => {
    if (c >= minRatings) newIndex[i] = kept.push(data.itemIds.idAt(i)) - 1;
  });
  const restrict = (r: Ratings) => {
    const positions: number[] = [];
    for (let k = 0; k < r.size; k++) if (newIndex[r.items[k]] >= 0) positions.push(k);
    const part = r.select(positions);
    return new Ratings(
      part.users,
      Int32Array.from(part.items, (i) => newIndex[i]),
      part.values,
      r.nUsers,
      kept.length,
    );
  };
  return {
    ...data,
    itemIds: IdMap.fromRaw(kept),
    train: restrict(data.train),
    test: restrict(data.test),
  };
}

/** The smallest rating count whose items (those with at least that many ratings) number at most `maxItems`. */
export function minRatingsForItems(train: Ratings, maxItems: number): number {
  const counts = new Int32Array(train.nItems);
  for (let k = 0; k < train.size; k++) counts[train.items[k]]++;
  const sorted = Array.from(counts).sort((a, b) => b - a);
  return sorted.length <= maxItems ? 0 : sorted[maxItems] + 1;
}
