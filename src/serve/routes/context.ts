import { onScale } from "../../data/parse-ratings.js";
import type { RawId } from "../../data/ratings.js";
import type { MovieRating, MovieScore } from "../../model/recommender.js";
import type { Access } from "../access.js";
import { HttpError } from "../errors.js";
import type { ServiceMetrics } from "../metrics.js";
import type { RatingsStore, StoredRating } from "../ratings-db.js";
import type { ServiceState } from "../state.js";

/** What every route plugin is given: the model being served (swapped whole on reload) and the ratings. */
export interface RouteContext {
  /** The state now being served; read it per request, since a reload replaces it. */
  state: () => ServiceState;
  db: RatingsStore;
  /** Loads the model again and swaps it in. */
  reload: () => Promise<void>;
  /** Most ratings an anonymous request may carry and a user may have stored (see MAX_RATINGS). */
  maxRatings: number;
  /** Who may write what. */
  access: Access;
  metrics: ServiceMetrics;
}

/** The checks and merges that several routes share, over a RouteContext. */
export class RouteHelpers {
  constructor(private readonly ctx: RouteContext) {}

  private state(): ServiceState {
    return this.ctx.state();
  }

  /** The movie `movieId`, or a 404. */
  movieOr404(movieId: RawId): MovieScore {
    const movie = this.state().movie(movieId);
    if (!movie) throw new HttpError(404, `unknown movie id ${movieId}`);
    return movie;
  }

  /** True when `user` is a user of the model (other ids are visitors, who need no account). */
  isModelUser(user: string): boolean {
    return this.state().recommender.userIds.indexOf(user) >= 0;
  }

  /**
   * Where the model's users have numeric ids, an unknown numeric id is a 404 (a mistyped user, not a new
   * visitor): a visitor id then has a letter in it.
   */
  checkUser(user: string): void {
    const { userIds } = this.state().recommender;
    if (/^\d+$/.test(user) && userIds.numeric && !this.isModelUser(user)) {
      throw new HttpError(
        404,
        `unknown user ${user}: numeric ids are the model's users; a visitor id has a letter in it`,
      );
    }
  }

  /** A 400 naming `field` unless `rating` is on the model's scale and step. */
  checkRating(rating: number, field: string): void {
    const { scale } = this.state();
    if (!onScale(rating, scale)) {
      throw new HttpError(
        400,
        `${field} ${rating} is not a rating on the scale ${scale.min}..${scale.max} in steps of ${scale.step}`,
      );
    }
  }

  /** A user's ratings: his training ratings (model users), overridden and extended by those stored here. */
  ratingsOf(user: string, stored: StoredRating[]): MovieRating[] {
    const merged = new Map<RawId, number>();
    for (const r of this.state().recommender.trainingRatings(user)) merged.set(r.movieId, r.rating);
    for (const r of stored) {
      const movie = this.state().movie(r.movieId);
      if (movie) merged.set(movie.movieId, r.rating);
    }
    return [...merged].map(([movieId, rating]) => ({ movieId, rating }));
  }

  /** Each movie with the rated movie most like it ("because you rated ..."), or null. */
  withReasons(items: MovieScore[], ratings: MovieRating[]) {
    const reasons = this.state().recommender.because(
      items.map((m) => m.movieId),
      ratings,
    );
    return items.map((m, i) => {
      const reason = reasons[i];
      return { ...m, because: reason && { movieId: reason.movieId, title: reason.title } };
    });
  }
}
