import type { FastifyPluginAsync } from "fastify";
import { rawIdOf } from "../../data/ratings.js";
import { bearerToken } from "../access.js";
import { HttpError } from "../errors.js";
import { movieIdParam, ratingBody, responses, storedRatingSchema, userParam } from "../schemas.js";
import { type RouteContext, RouteHelpers } from "./context.js";

/** A user's stored ratings: list, add or change, remove. */
export const ratingRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const check = new RouteHelpers(ctx);
  const ratingParams = {
    type: "object",
    properties: { user: userParam, movieId: movieIdParam },
    required: ["user", "movieId"],
  } as const;

  app.get<{ Params: { user: string } }>(
    "/api/users/:user/ratings",
    {
      schema: {
        tags: ["ratings"],
        summary: "the ratings stored for a user, and a model user's training ratings",
        params: { type: "object", properties: { user: userParam }, required: ["user"] },
        response: responses(
          {
            200: {
              type: "object",
              properties: {
                user: { type: "string" },
                ratings: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: { ...storedRatingSchema.properties, title: { type: ["string", "null"] } },
                  },
                },
                training: {
                  type: "array",
                  description: "a model user's ratings in the training data (empty for a visitor)",
                  items: {
                    type: "object",
                    properties: {
                      movieId: storedRatingSchema.properties.movieId,
                      rating: { type: "number" },
                      title: { type: "string" },
                    },
                  },
                },
              },
            },
          },
          [400, 404],
        ),
      },
    },
    async (request) => {
      const { user } = request.params;
      check.checkUser(user);
      return {
        user,
        ratings: (await ctx.db.list(user)).map((r) => ({
          ...r,
          title: ctx.state().movie(r.movieId)?.title ?? null,
        })),
        training: ctx
          .state()
          .recommender.trainingRatings(user)
          .map((r) => ({ ...r, title: ctx.state().movie(r.movieId)?.title })),
      };
    },
  );

  app.put<{ Params: { user: string; movieId: string }; Body: { rating: number } }>(
    "/api/users/:user/ratings/:movieId",
    {
      schema: {
        tags: ["ratings"],
        summary: `add or change a rating (at most ${ctx.maxRatings} stored per user); needs the visitor's token`,
        security: [{ bearer: [] }],
        params: ratingParams,
        body: {
          type: "object",
          required: ["rating"],
          additionalProperties: false,
          properties: { rating: ratingBody },
        },
        response: responses(
          {
            200: {
              type: "object",
              properties: { user: { type: "string" }, ...storedRatingSchema.properties },
            },
          },
          [400, 401, 403, 404, 409, 413, 415],
        ),
      },
    },
    async (request) => {
      const { user } = request.params;
      check.checkUser(user);
      ctx.access.requireWriter(user, check.isModelUser(user), bearerToken(request.headers.authorization));
      const { movieId } = check.movieOr404(request.params.movieId);
      check.checkRating(request.body.rating, "rating");
      const stored = await ctx.db.list(user);
      if (stored.length >= ctx.maxRatings && !stored.some((r) => r.movieId === movieId)) {
        throw new HttpError(
          409,
          `user ${user} has ${stored.length} stored ratings, the most a user may have: remove one before adding another`,
        );
      }
      return { user, ...(await ctx.db.put(user, movieId, request.body.rating)) };
    },
  );

  app.delete<{ Params: { user: string; movieId: string } }>(
    "/api/users/:user/ratings/:movieId",
    {
      schema: {
        tags: ["ratings"],
        summary: "remove a stored rating; needs the visitor's token",
        params: ratingParams,
        response: responses({ 204: { type: "null", description: "removed" } }, [400, 401, 403, 404]),
        security: [{ bearer: [] }],
      },
    },
    async (request, reply) => {
      const { user, movieId } = request.params;
      check.checkUser(user);
      ctx.access.requireWriter(user, check.isModelUser(user), bearerToken(request.headers.authorization));
      if (!(await ctx.db.remove(user, rawIdOf(movieId))))
        throw new HttpError(404, `user ${user} has no stored rating for movie ${movieId}`);
      return reply.status(204).send();
    },
  );
};
