import { relevantFrom } from "../data/datasets.js";
import type { Movie } from "../data/movies.js";
import { onScale } from "../data/parse-ratings.js";
import type { IdMap, RawId } from "../data/ratings.js";
import { type Backend, createBackend } from "../kernels/index.js";
import { cachedMeans, clipToScale, type Model } from "./model.js";
import { topK } from "./recommend.js";

/** A recommended (or similar) movie as people see it. */
export interface MovieScore {
  movieId: RawId;
  title: string;
  year: number | null;
  genres: string[];
  /**
   * Recommendations: the ranking score (a rating model's predicted rating, clipped to the scale; a top-N
   * model's own score); similar movies: the cosine similarity; popular movies: the training mean.
   */
  score: number;
  /** The predicted rating on the scale, from the rating model (null when none is at hand). */
  predicted: number | null;
}

/** One rating given by raw movie id. */
export interface MovieRating {
  movieId: RawId;
  rating: number;
}

/** Ratings a recommendation cannot be made from: unknown movies, ratings off the scale, repeats. */
export class RatingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RatingsError";
  }
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
  private unit?: Float32Array;
  private scratch?: { a: Float32Array; b: Float32Array; zero: Float32Array; out: Float32Array };

  private readonly rare: number[];
  private readonly backend: Backend;
  /** Predicts the stars shown: the rating model beside a top-N model, a rating model itself, or none. */
  readonly rater: Model | null;

  constructor(
    readonly model: Model,
    readonly userIds: IdMap,
    readonly itemIds: IdMap,
    readonly movies: Map<RawId, Movie>,
    options: {
      /**
       * The rating model that predicts the stars shown beside a top-N model's list (trained on the same
       * ratings). A rating model is its own rater.
       */
      rater?: Model;
      /**
       * Movies with fewer training ratings are never recommended (default 10): a movie rated 5 by its one
       * viewer gets a near-5 prediction for everyone, which says more about noise than about taste.
       */
      minRatings?: number;
      /** Kernels for the similarity products (default: the plain-TypeScript ones). */
      backend?: Backend;
    } = {},
  ) {
    this.backend = options.backend ?? createBackend("reference");
    this.rater = options.rater ?? (model.ranksOnly ? null : model);
    if (this.rater && this.rater.train.nItems !== model.train.nItems)
      throw new Error("the rating model was trained on other movies than the ranking model");
    const counts = this.ratingCounts();
    const min = options.minRatings ?? 10;
    this.rare = [];
    for (let i = 0; i < counts.length; i++) if (counts[i] < min) this.rare.push(i);
  }

  /** The k best unrated movies for a known user; for an unknown one, the k most rated movies. */
  forUser(userId: RawId, k = 10): UserRecommendations {
    const user = this.userIds.indexOf(userId);
    if (user < 0) return { known: false, items: this.popular(k) };
    return { known: true, items: this.forUserIndices([user], k)[0] };
  }

  /** The k best unrated movies for each of the model's users `users` (dense indices), scored in one batch. */
  forUserIndices(users: number[], k = 10): MovieScore[][] {
    const n = this.itemIds.size;
    const csr = this.model.train.byUser();
    const scores = this.model.scoreUsers(users);
    const stars = this.rater && this.rater !== this.model ? this.rater.scoreUsers(users) : null;
    return users.map((user, b) => {
      const rated = csr.indices.subarray(csr.indptr[user], csr.indptr[user + 1]);
      const ranked = topK(scores.subarray(b * n, (b + 1) * n), k, [...rated, ...this.rare]);
      return this.ranked(ranked, stars?.subarray(b * n, (b + 1) * n) ?? null);
    });
  }

  /** A known user's training ratings, by raw ids (empty for an unknown user). */
  trainingRatings(userId: RawId): MovieRating[] {
    const user = this.userIds.indexOf(userId);
    if (user < 0) return [];
    const csr = this.model.train.byUser();
    const out: MovieRating[] = [];
    for (let k = csr.indptr[user]; k < csr.indptr[user + 1]; k++) {
      out.push({ movieId: this.itemIds.idAt(csr.indices[k]), rating: csr.values[k] });
    }
    return out;
  }

  /** The k best movies for someone from his ratings alone; throws on movies the model does not know. */
  forRatings(ratings: MovieRating[], k = 10): MovieScore[] {
    const unknown = ratings.filter((r) => this.itemIds.indexOf(r.movieId) < 0).map((r) => r.movieId);
    if (unknown.length > 0)
      throw new RatingsError(`unknown movie id${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`);
    const { scale } = this.model;
    const off = ratings.find((r) => !onScale(r.rating, scale));
    if (off)
      throw new RatingsError(
        `rating ${off.rating} for movie ${off.movieId} is off the scale ${scale.min}..${scale.max} in steps of ${scale.step}`,
      );
    const items = Int32Array.from(ratings, (r) => this.itemIds.indexOf(r.movieId));
    const seen = new Set<number>();
    for (const [i, item] of items.entries()) {
      if (seen.has(item)) throw new RatingsError(`movie ${ratings[i].movieId} is rated twice`);
      seen.add(item);
    }
    const values = Float32Array.from(ratings, (r) => r.rating);
    const ranked = topK(this.model.foldIn(items, values), k, [...items, ...this.rare]);
    const stars = this.rater && this.rater !== this.model ? this.rater.foldIn(items, values) : null;
    return this.ranked(ranked, stars);
  }

  /**
   * The k movies most similar to `movieId` by cosine similarity of the model's movie vectors: each movie's
   * code for item-based models, each movie's output weights for user-based ones.
   */
  similar(movieId: RawId, k = 10): MovieScore[] {
    const item = this.itemIds.indexOf(movieId);
    if (item < 0) throw new Error(`unknown movie id ${movieId}`);
    const sims = Float32Array.from({ length: this.itemIds.size }, (_, i) => this.cosine(item, i));
    return topK(sims, k, [item, ...this.rare]).map(({ item: i, score }) => this.movie(i, score, null));
  }

  /**
   * Why each movie would suit someone: of the movies he rated at least `liked`, the one that drives its score
   * in the model (Model.explain, for models that can say) or else the one most similar to it (cosine of the
   * model's movie vectors); null when none does. All pairs are scored in one kernel
   * call: recommended x liked dot products of unit vectors.
   */
  because(
    movieIds: RawId[],
    ratings: MovieRating[],
    liked = relevantFrom(this.model.scale),
  ): (MovieScore | null)[] {
    const likedRatings = ratings.filter((r) => r.rating >= liked && this.itemIds.indexOf(r.movieId) >= 0);
    const likedItems = likedRatings.map((r) => this.itemIds.indexOf(r.movieId));
    if (likedItems.length === 0 || movieIds.length === 0) return movieIds.map(() => null);
    if (this.model.explain) {
      // The model's own account: the liked movie whose rating raises each one's score most.
      const drivers = this.model.explain(
        movieIds.map((id) => this.itemIds.indexOf(id)),
        Int32Array.from(likedItems),
        Float32Array.from(likedRatings, (r) => r.rating),
      );
      return Array.from(drivers, (k) =>
        k < 0 ? null : this.movie(likedItems[k], likedRatings[k].rating, likedRatings[k].rating),
      );
    }
    const { unit, size } = this.unitVectors();
    const { kernels, arena } = this.backend;
    const [nA, nB] = [movieIds.length, likedItems.length];
    if (!this.scratch || this.scratch.a.length < nA * size || this.scratch.b.length < nB * size) {
      const rows = Math.max(nA, nB, 64);
      this.scratch = {
        a: arena.f32(rows * size),
        b: arena.f32(rows * size),
        zero: arena.f32(rows),
        out: arena.f32(rows * rows),
      };
    }
    if (this.scratch.out.length < nA * nB) this.scratch.out = arena.f32(nA * nB);
    const { a, b, zero } = this.scratch;
    const items = movieIds.map((id) => this.itemIds.indexOf(id));
    for (const [r, item] of items.entries()) a.set(unit.subarray(item * size, (item + 1) * size), r * size);
    for (const [r, item] of likedItems.entries())
      b.set(unit.subarray(item * size, (item + 1) * size), r * size);
    kernels.fill(zero, nB, 0);
    kernels.denseAffine(this.scratch.out, a, b, zero, nA, size, nB);
    return items.map((self, r) => {
      let best = -1;
      for (let q = 0; q < nB; q++) {
        if (likedItems[q] === self) continue;
        if (best < 0 || this.scratch!.out[r * nB + q] > this.scratch!.out[r * nB + best]) best = q;
      }
      return best < 0 ? null : this.movie(likedItems[best], this.scratch!.out[r * nB + best], null);
    });
  }

  /** Cosine similarity of two movies' vectors. */
  private cosine(a: number, b: number): number {
    const { unit, size } = this.unitVectors();
    let dot = 0;
    for (let t = 0; t < size; t++) dot += unit[a * size + t] * unit[b * size + t];
    return dot;
  }

  /** Every movie's vector scaled to length 1 (computed once), so that a cosine is one dot product. */
  private unitVectors(): { unit: Float32Array; size: number } {
    const { vectors, size } = this.model.itemVectors();
    if (!this.unit) {
      this.unit = new Float32Array(vectors.length);
      for (let i = 0; i < this.itemIds.size; i++) {
        let s = 0;
        for (let t = 0; t < size; t++) s += vectors[i * size + t] ** 2;
        const norm = Math.sqrt(s) || 1;
        for (let t = 0; t < size; t++) this.unit[i * size + t] = vectors[i * size + t] / norm;
      }
    }
    return { unit: this.unit, size };
  }

  /** The k movies with the most training ratings, skipping `exclude` (dense indices). */
  popular(k = 10, exclude: ArrayLike<number> = []): MovieScore[] {
    return topK(this.ratingCounts(), k, exclude).map(({ item }) => this.withMean(item));
  }

  /** A movie with its training mean as the score, or null for a movie the model does not know. */
  movieInfo(movieId: RawId): MovieScore | null {
    const item = this.itemIds.indexOf(movieId);
    return item < 0 ? null : this.withMean(item);
  }

  private withMean(item: number): MovieScore {
    const mean = cachedMeans(this.model.train).item[item];
    return this.movie(item, Number.isNaN(mean) ? 0 : mean, null);
  }

  /** Training ratings per movie (dense indices). */
  ratingCounts(): Int32Array {
    if (!this.popularity) {
      const byItem = this.model.train.byItem();
      this.popularity = Int32Array.from(
        { length: byItem.nRows },
        (_, i) => byItem.indptr[i + 1] - byItem.indptr[i],
      );
    }
    return this.popularity;
  }

  /**
   * Ranked movies with their predicted stars: a rating model's own scores clipped to the scale, or the
   * rater's scores `stars` (a row over every movie) beside a top-N model's.
   */
  private ranked(ranked: { item: number; score: number }[], stars: Float32Array | null): MovieScore[] {
    const { scale } = this.model;
    return ranked.map(({ item, score }) => {
      if (this.rater === this.model) {
        const predicted = clipToScale(score, scale);
        return this.movie(item, predicted, predicted);
      }
      return this.movie(item, score, stars ? clipToScale(stars[item], scale) : null);
    });
  }

  private movie(item: number, score: number, predicted: number | null): MovieScore {
    const movieId = this.itemIds.idAt(item);
    const m = this.movies.get(movieId);
    return {
      movieId,
      title: m?.title ?? `movie ${movieId}`,
      year: m?.year ?? null,
      genres: m?.genres ?? [],
      score,
      predicted,
    };
  }
}
