import type { Ratings } from "../data/ratings.js";
import { topK } from "./recommend.js";

/** Ranking quality at K, averaged over the users evaluated (see rankingMetrics). */
export interface RankingMetrics {
  /** hits / K. */
  precision: number;
  /** hits / number of relevant test movies. */
  recall: number;
  /** DCG / ideal DCG, binary relevance, log2 discount. */
  ndcg: number;
  /** Average precision at K: sum of precision at each hit / min(K, relevant). */
  map: number;
  /** Share of users with at least one hit. */
  hitRate: number;
  /** Mean of 1 / rank of the first hit (0 without a hit). */
  mrr: number;
  /** Share of the catalogue that appears in some user's top K. */
  coverage: number;
  /** Users with at least one relevant test movie (the others are skipped). */
  users: number;
}

/** One user's ranked list and the movies that were relevant to him. */
export interface RankedList {
  recommended: ArrayLike<number>;
  relevant: Set<number>;
}

/**
 * Precision, recall, NDCG, MAP, hit rate and MRR at K over users' ranked lists, and catalogue coverage.
 * Policy: a user with no relevant movie has nothing to find and is skipped (not counted as a zero); a list
 * shorter than K (a small catalogue) still divides precision by K. All metrics are 0 when no user counts.
 * Recall divides the hits by the number of relevant movies, or, with `cappedRecall` (the Mult-VAE paper's
 * strong-generalisation protocol), by min(K, relevant) so that a perfect list scores 1 at any K.
 */
export function rankingMetrics(
  lists: RankedList[],
  k: number,
  nItems: number,
  cappedRecall = false,
): RankingMetrics {
  const sum = { precision: 0, recall: 0, ndcg: 0, map: 0, hitRate: 0, mrr: 0 };
  const shown = new Set<number>();
  let users = 0;
  for (const { recommended, relevant } of lists) {
    const top = Array.from(recommended).slice(0, k);
    for (const item of top) shown.add(item);
    if (relevant.size === 0) continue;
    users++;
    let hits = 0;
    let dcg = 0;
    let ap = 0;
    let firstHit = 0;
    top.forEach((item, rank) => {
      if (!relevant.has(item)) return;
      hits++;
      dcg += 1 / Math.log2(rank + 2);
      ap += hits / (rank + 1);
      if (firstHit === 0) firstHit = rank + 1;
    });
    let idcg = 0;
    for (let r = 0; r < Math.min(k, relevant.size); r++) idcg += 1 / Math.log2(r + 2);
    sum.precision += hits / k;
    sum.recall += hits / (cappedRecall ? Math.min(k, relevant.size) : relevant.size);
    sum.ndcg += dcg / idcg;
    sum.map += ap / Math.min(k, relevant.size);
    sum.hitRate += hits > 0 ? 1 : 0;
    sum.mrr += firstHit > 0 ? 1 / firstHit : 0;
  }
  const mean = (x: number) => (users > 0 ? x / users : 0);
  return {
    precision: mean(sum.precision),
    recall: mean(sum.recall),
    ndcg: mean(sum.ndcg),
    map: mean(sum.map),
    hitRate: mean(sum.hitRate),
    mrr: mean(sum.mrr),
    coverage: nItems > 0 ? shown.size / nItems : 0,
    users,
  };
}

/** How to judge rankings: the cut-off K and the rating from which a test movie counts as relevant. */
export interface RankingOptions {
  k: number;
  threshold: number;
  /** Told how many of the users with test ratings are ranked so far, every 1% of them and at the end. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * For every user with test ratings, the `depth` best movies he did not rate in training by `score(user)`,
 * with his test movies rated at least `threshold` (the relevant ones).
 */
export function rankedLists(
  score: (user: number) => ArrayLike<number>,
  train: Ratings,
  test: Ratings,
  threshold: number,
  depth: number,
  onProgress?: (done: number, total: number) => void,
): RankedList[] {
  const trainCsr = train.byUser();
  const testCsr = test.byUser();
  const lists: RankedList[] = [];
  let total = 0;
  for (let u = 0; u < testCsr.nRows; u++) if (testCsr.indptr[u + 1] > testCsr.indptr[u]) total++;
  const every = Math.max(1, Math.ceil(total / 100));
  for (let u = 0; u < testCsr.nRows; u++) {
    if (testCsr.indptr[u + 1] === testCsr.indptr[u]) continue;
    if (onProgress && lists.length % every === 0) onProgress(lists.length, total);
    const relevant = new Set<number>();
    for (let q = testCsr.indptr[u]; q < testCsr.indptr[u + 1]; q++) {
      if (testCsr.values[q] >= threshold) relevant.add(testCsr.indices[q]);
    }
    const rated =
      u < trainCsr.nRows ? trainCsr.indices.subarray(trainCsr.indptr[u], trainCsr.indptr[u + 1]) : [];
    lists.push({ recommended: topK(score(u), depth, rated).map((r) => r.item), relevant });
  }
  onProgress?.(total, total);
  return lists;
}

/**
 * Ranks, for every user with test ratings, all movies he did not rate in training by `score(user)`, and
 * measures the top K against his test movies rated at least `threshold`.
 */
export function evaluateRanking(
  score: (user: number) => ArrayLike<number>,
  train: Ratings,
  test: Ratings,
  options: RankingOptions,
): RankingMetrics {
  const lists = rankedLists(score, train, test, options.threshold, options.k, options.onProgress);
  return rankingMetrics(lists, options.k, train.nItems);
}
