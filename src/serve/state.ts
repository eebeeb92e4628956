import type { RatingScale } from "../data/datasets.js";
import type { RawId } from "../data/ratings.js";
import type { EpochReport } from "../model/model.js";
import type { MovieRating, MovieScore, Recommender } from "../model/recommender.js";
import { openRecommender } from "../store/open-recommender.js";
import { FoldInPool, type FoldInPoolOptions } from "./fold-in-pool.js";

/** What the service says about the model it serves, besides what the recommender holds. */
export interface ModelInfo {
  kind: string;
  /** The rating model that predicts the stars shown, or null (a top-N model alone). */
  rater: string | null;
  dataset: string;
  split: string;
  config: unknown;
  scale: RatingScale;
  metrics: Record<string, unknown>;
  history: EpochReport[];
  /** The model file's fingerprint (SHA-256 of its header and tensors), where it came from a file. */
  fingerprint?: string;
}

/** One model with what the routes need from it; replaced whole on reload. */
export interface ServiceState {
  info: ModelInfo;
  recommender: Recommender;
  scale: RatingScale;
  movie(movieId: RawId): MovieScore | null;
  /** Someone's top k from his ratings (fold-in): in a worker thread where the state has a pool. */
  foldIn(ratings: MovieRating[], k: number): Promise<MovieScore[]>;
  /** Stops what the state runs (its fold-in workers), once the requests on it have finished. */
  close(): Promise<void>;
  search(query: { q?: string; genre?: string; page: number; pageSize: number }): {
    total: number;
    page: number;
    pageSize: number;
    items: MovieScore[];
  };
}

/** Fold-ins of at most this many ratings run on the event loop, larger ones in the workers. */
export const INLINE_FOLD_IN = 32;

/** The state the routes serve from a recommender (of any model kind) and what is known of its model. */
export function serviceState(recommender: Recommender, info: ModelInfo, pool?: FoldInPool): ServiceState {
  const counts = recommender.ratingCounts();
  // Search lists the most rated first: that is what people look for. Described once, searched per request.
  const catalogue = Array.from(recommender.itemIds.ids as ArrayLike<RawId>)
    .map((movieId, item) => ({ item, movie: recommender.movieInfo(movieId)! }))
    .sort((a, b) => counts[b.item] - counts[a.item] || a.item - b.item)
    .map(({ movie }) => movie);
  return {
    info,
    recommender,
    scale: recommender.model.scale,
    movie: (movieId) => recommender.movieInfo(movieId),
    // A handful of ratings folds in within a millisecond: a worker's round trip would cost more than it saves.
    foldIn: async (ratings, k) =>
      pool && ratings.length > INLINE_FOLD_IN ? pool.run(ratings, k) : recommender.forRatings(ratings, k),
    close: async () => pool?.close(),
    search({ q, genre, page, pageSize }) {
      const needle = q?.trim().toLowerCase() ?? "";
      const wanted = genre?.toLowerCase();
      const hits = catalogue.filter(
        (m) =>
          (!needle || m.title.toLowerCase().includes(needle)) &&
          (!wanted || m.genres.some((g) => g.toLowerCase() === wanted)),
      );
      return {
        total: hits.length,
        page,
        pageSize,
        items: hits.slice((page - 1) * pageSize, page * pageSize),
      };
    },
  };
}

/**
 * Loads a model file for serving (and the rating model beside a top-N one, when it is a file of its own),
 * with `foldIn.workers` worker threads for fold-ins (0: on the event loop).
 */
export async function openService(
  modelFile: string,
  ratingModelFile?: string,
  foldIn: FoldInPoolOptions = {},
): Promise<ServiceState> {
  const { loaded, recommender } = await openRecommender(modelFile, "auto", undefined, ratingModelFile);
  const h = loaded.header;
  const pool =
    (foldIn.workers ?? 1) > 0
      ? await FoldInPool.start({ modelFile, ratingModelFile, fingerprint: h.fingerprint }, foldIn)
      : undefined;
  return serviceState(
    recommender,
    {
      kind: h.kind,
      rater: recommender.rater?.kind ?? null,
      dataset: h.dataset,
      split: h.split,
      config: h.config,
      scale: h.scale,
      metrics: h.metrics,
      history: h.training.history,
      fingerprint: h.fingerprint,
    },
    pool,
  );
}
