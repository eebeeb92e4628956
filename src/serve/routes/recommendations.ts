import type { FastifyPluginAsync } from "fastify";
import type { MovieRating, MovieScore } from "../../model/recommender.js";
import { HttpError } from "../errors.js";
import { kQuery, movieIdBody, ratingBody, recommendedSchema, responses, userParam } from "../schemas.js";
import type { ServiceState } from "../state.js";
import { type RouteContext, RouteHelpers } from "./context.js";

/** Recommendations for stored users and for anonymous ratings (fold-in). */
export const recommendationRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const check = new RouteHelpers(ctx);
  const folded = new FoldInCache(FOLD_IN_CACHE_SIZE);
  const timedFoldIn = async (state: ServiceState, ratings: MovieRating[], k: number) => {
    const end = ctx.metrics.foldIn.startTimer();
    try {
      return await state.foldIn(ratings, k);
    } finally {
      end();
    }
  };
  app.get<{ Params: { user: string }; Querystring: { k: number } }>(
    "/api/users/:user/recommendations",
    {
      schema: {
        tags: ["recommendations"],
        summary: "a user's top k (his training ratings and the ratings stored here); popular movies for none",
        params: { type: "object", properties: { user: userParam }, required: ["user"] },
        querystring: { type: "object", properties: { k: kQuery }, additionalProperties: false },
        response: responses(
          {
            200: {
              type: "object",
              properties: {
                user: { type: "string" },
                known: { type: "boolean" },
                items: { type: "array", items: recommendedSchema },
              },
            },
          },
          [400, 404, 503],
        ),
      },
    },
    async (request) => {
      const { user } = request.params;
      check.checkUser(user);
      const { k } = request.query;
      const stored = await ctx.db.list(user);
      const ratings = check.ratingsOf(user, stored);
      if (ratings.length === 0)
        return { user, known: false, items: check.withReasons(ctx.state().recommender.popular(k), []) };
      const state = ctx.state();
      const items =
        stored.length > 0
          ? await folded.get(state, user, k, ratings, () => timedFoldIn(state, ratings, k))
          : state.recommender.forUser(user, k).items;
      return { user, known: true, items: check.withReasons(items, ratings) };
    },
  );

  app.post<{ Body: { ratings: MovieRating[]; k?: number } }>(
    "/api/recommendations",
    {
      schema: {
        tags: ["recommendations"],
        summary: "recommendations for anonymous ratings, without retraining",
        body: {
          type: "object",
          required: ["ratings"],
          additionalProperties: false,
          properties: {
            ratings: {
              type: "array",
              minItems: 1,
              maxItems: ctx.maxRatings,
              description: `at most ${ctx.maxRatings} ratings, each movie once`,
              items: {
                type: "object",
                required: ["movieId", "rating"],
                additionalProperties: false,
                properties: { movieId: movieIdBody, rating: ratingBody },
              },
            },
            k: kQuery,
          },
        },
        response: responses(
          {
            200: {
              type: "object",
              properties: { user: { type: "null" }, items: { type: "array", items: recommendedSchema } },
            },
          },
          [400, 413, 415, 503],
        ),
      },
    },
    async (request) => {
      const { ratings } = request.body;
      ratings.forEach((r, i) => {
        if (!ctx.state().movie(r.movieId))
          throw new HttpError(400, `ratings[${i}].movieId: unknown movie id ${r.movieId}`);
        check.checkRating(r.rating, `ratings[${i}].rating`);
      });
      const items = await timedFoldIn(ctx.state(), ratings, request.body.k ?? 10);
      return { user: null, items: check.withReasons(items, ratings) };
    },
  );
};

/** Users whose folded-in lists are kept. */
const FOLD_IN_CACHE_SIZE = 1000;

/**
 * The lists of the users folded in most recently, each under the model it came from, its k and its ratings:
 * a user's next request costs a lookup until he rates again or the model is reloaded. Least recently used
 * out first.
 */
class FoldInCache {
  private readonly entries = new Map<string, { state: object; key: string; items: Promise<MovieScore[]> }>();

  constructor(private readonly size: number) {}

  get(
    state: object,
    user: string,
    k: number,
    ratings: MovieRating[],
    fold: () => Promise<MovieScore[]>,
  ): Promise<MovieScore[]> {
    const key = `${k}|${ratings.map((r) => `${r.movieId}:${r.rating}`).join(",")}`;
    const hit = this.entries.get(user);
    this.entries.delete(user);
    if (hit && hit.state === state && hit.key === key) {
      this.entries.set(user, hit);
      return hit.items;
    }
    const items = fold();
    this.entries.set(user, { state, key, items });
    // A fold-in that fails (busy, timed out) is not remembered.
    items.catch(() => {
      if (this.entries.get(user)?.items === items) this.entries.delete(user);
    });
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
    return items;
  }
}
