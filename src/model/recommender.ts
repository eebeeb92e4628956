import type { Movie } from "../data/movies.js";
import type { IdMap } from "../data/ratings.js";
import type { AutoencoderModel } from "./autoencoder-model.js";
import { topK } from "./recommend.js";

/** A recommended (or similar) movie as people see it. */
export interface MovieScore {
  movieId: number;
  title: string;
  year: number | null;
  genres: string[];
  /** Predicted rating (clipped to the scale) for recommendations; cosine similarity for similar movies. */
  score: number;
}

/** One rating given by raw movie id. */
export interface MovieRating {
  movieId: number;
  rating: number;
}

/** Recommendations for a user; `known` is false when the model has never seen him (popular movies then). */
export interface UserRecommendations {
  known: boolean;
  items: MovieScore[];
}

/**
 * Top-N recommendations from a trained model, by raw ids: for users it was trained with, for new people
 * from a handful of ratings (no retraining), and movies similar to a movie by the model's representations.
 * Movies a person has rated are never recommended to him.
 */
export class Recommender {
  private popularity?: Int32Array;
  private norms?: Float32Array;

  private readonly rare: number[];

  constructor(
    readonly model: AutoencoderModel,
    readonly userIds: IdMap,
    readonly itemIds: IdMap,
    readonly movies: Map<number, Movie>,
    options: {
      /** Ridge penalty of the item-based fold-in (see AutoencoderModel.scoreNewUser). */
      ridge?: number;
      /**
       * Movies with fewer training ratings are never recommended (default 10): a movie rated 5 by its one
       * viewer gets a near-5 prediction for everyone, which says more about noise than about taste.
       */
      minRatings?: number;
    } = {},
  ) {
    this.ridge = options.ridge ?? 1;
    const counts = this.counts();
    const min = options.minRatings ?? 10;
    this.rare = [];
    for (let i = 0; i < counts.length; i++) if (counts[i] < min) this.rare.push(i);
  }

  readonly ridge: number;

  /** The k best unrated movies for a known user; for an unknown one, the k most rated movies. */
  forUser(userId: number, k = 10): UserRecommendations {
    const user = this.userIds.indexOf(userId);
    if (user < 0) return { known: false, items: this.popular(k) };
    const csr = this.model.train.byUser();
    const rated = csr.indices.subarray(csr.indptr[user], csr.indptr[user + 1]);
    return {
      known: true,
      items: this.describe(topK(this.model.scoreAll(user), k, [...rated, ...this.rare])),
    };
  }

  /** A known user's training ratings, by raw ids (empty for an unknown user). */
  trainingRatings(userId: number): MovieRating[] {
    const user = this.userIds.indexOf(userId);
    if (user < 0) return [];
    const csr = this.model.train.byUser();
    const out: MovieRating[] = [];
    for (let k = csr.indptr[user]; k < csr.indptr[user + 1]; k++) {
      out.push({ movieId: this.itemIds.ids[csr.indices[k]], rating: csr.values[k] });
    }
    return out;
  }

  /** The k best movies for someone from his ratings alone; throws on movies the model does not know. */
  forRatings(ratings: MovieRating[], k = 10): MovieScore[] {
    const unknown = ratings.filter((r) => this.itemIds.indexOf(r.movieId) < 0).map((r) => r.movieId);
    if (unknown.length > 0)
      throw new Error(`unknown movie id${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`);
    const { scale } = this.model;
    const off = ratings.find((r) => !(r.rating >= scale.min && r.rating <= scale.max));
    if (off)
      throw new Error(
        `rating ${off.rating} for movie ${off.movieId} is off the scale ${scale.min}..${scale.max}`,
      );
    const seen = new Set<number>();
    for (const r of ratings) {
      if (seen.has(r.movieId)) throw new Error(`movie ${r.movieId} is rated twice`);
      seen.add(r.movieId);
    }
    const items = Int32Array.from(ratings, (r) => this.itemIds.indexOf(r.movieId));
    const values = Float32Array.from(ratings, (r) => r.rating);
    return this.describe(
      topK(this.model.scoreNewUser(items, values, this.ridge), k, [...items, ...this.rare]),
    );
  }

  /**
   * The k movies most similar to `movieId` by cosine similarity of the model's movie vectors: each movie's
   * code for item-based models, each movie's output weights for user-based ones.
   */
  similar(movieId: number, k = 10): MovieScore[] {
    const item = this.itemIds.indexOf(movieId);
    if (item < 0) throw new Error(`unknown movie id ${movieId}`);
    const sims = Float32Array.from({ length: this.itemIds.size }, (_, i) => this.cosine(item, i));
    return this.describe(topK(sims, k, [item, ...this.rare]), false);
  }

  /**
   * Why a movie would suit someone: of the movies he rated at least `liked`, the one most similar to it
   * (cosine of the model's movie vectors), or null when he liked none.
   */
  because(movieId: number, ratings: MovieRating[], liked = 4): MovieScore | null {
    const item = this.itemIds.indexOf(movieId);
    let best: { item: number; score: number } | null = null;
    for (const r of ratings) {
      const other = this.itemIds.indexOf(r.movieId);
      if (r.rating < liked || other < 0 || other === item) continue;
      const score = this.cosine(item, other);
      if (!best || score > best.score) best = { item: other, score };
    }
    return best && this.movie(best.item, best.score);
  }

  /** Cosine similarity of two movies' vectors. */
  private cosine(a: number, b: number): number {
    const { vectors, size } = this.model.movieVectors();
    if (!this.norms) {
      this.norms = new Float32Array(this.itemIds.size);
      for (let i = 0; i < this.norms.length; i++) {
        let s = 0;
        for (let t = 0; t < size; t++) s += vectors[i * size + t] ** 2;
        this.norms[i] = Math.sqrt(s) || 1;
      }
    }
    let dot = 0;
    for (let t = 0; t < size; t++) dot += vectors[a * size + t] * vectors[b * size + t];
    return dot / (this.norms[a] * this.norms[b]);
  }

  /** The k movies with the most training ratings, skipping `exclude` (dense indices). */
  popular(k = 10, exclude: ArrayLike<number> = []): MovieScore[] {
    const means = this.model.means.item;
    return topK(this.counts(), k, exclude).map(({ item }) =>
      this.movie(item, Number.isNaN(means[item]) ? 0 : means[item]),
    );
  }

  /** Training ratings per movie. */
  private counts(): Int32Array {
    if (!this.popularity) {
      const byItem = this.model.train.byItem();
      this.popularity = Int32Array.from(
        { length: byItem.nRows },
        (_, i) => byItem.indptr[i + 1] - byItem.indptr[i],
      );
    }
    return this.popularity;
  }

  private describe(ranked: { item: number; score: number }[], clip = true): MovieScore[] {
    return ranked.map(({ item, score }) => this.movie(item, clip ? this.model.clip(score) : score));
  }

  private movie(item: number, score: number): MovieScore {
    const movieId = this.itemIds.ids[item];
    const m = this.movies.get(movieId);
    return {
      movieId,
      title: m?.title ?? `movie ${movieId}`,
      year: m?.year ?? null,
      genres: m?.genres ?? [],
      score,
    };
  }
}
