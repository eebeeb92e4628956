import type { FastifyPluginAsync } from "fastify";
import { kQuery, MAX_K, movieIdParam, movieSchema, responses } from "../schemas.js";
import { type RouteContext, RouteHelpers } from "./context.js";

/** Movie search and similar movies. */
export const movieRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const check = new RouteHelpers(ctx);
  app.get<{ Querystring: { q?: string; genre?: string; page: number; pageSize: number } }>(
    "/api/movies",
    {
      schema: {
        tags: ["movies"],
        summary: "search movies by title and genre, a page at a time, most rated first",
        querystring: {
          type: "object",
          properties: {
            q: { type: "string", maxLength: 200 },
            genre: { type: "string", maxLength: 50 },
            page: { type: "integer", minimum: 1, default: 1 },
            pageSize: { type: "integer", minimum: 1, maximum: MAX_K, default: 20 },
          },
          additionalProperties: false,
        },
        response: responses(
          {
            200: {
              type: "object",
              properties: {
                total: { type: "integer" },
                page: { type: "integer" },
                pageSize: { type: "integer" },
                items: { type: "array", items: movieSchema },
              },
            },
          },
          [400],
        ),
      },
    },
    async (request) => ctx.state().search(request.query),
  );

  app.get<{ Params: { movieId: string }; Querystring: { k: number } }>(
    "/api/movies/:movieId",
    {
      schema: {
        tags: ["movies"],
        summary: "a movie and the movies most similar to it",
        params: {
          type: "object",
          properties: { movieId: movieIdParam },
          required: ["movieId"],
        },
        querystring: { type: "object", properties: { k: kQuery }, additionalProperties: false },
        response: responses(
          {
            200: {
              type: "object",
              properties: { movie: movieSchema, similar: { type: "array", items: movieSchema } },
            },
          },
          [400, 404],
        ),
      },
    },
    async (request) => {
      const movie = check.movieOr404(request.params.movieId);
      return { movie, similar: ctx.state().recommender.similar(movie.movieId, request.query.k) };
    },
  );
};
