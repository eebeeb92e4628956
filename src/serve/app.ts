import { existsSync } from "node:fs";
import { STATUS_CODES } from "node:http";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance } from "fastify";
import { onScale } from "../data/parse-ratings.js";
import { type MovieRating, type MovieScore, RatingsError } from "../model/recommender.js";
import { HttpError } from "./errors.js";
import type { RatingsDb, StoredRating } from "./ratings-db.js";
import { openService, type ServiceState } from "./state.js";

/** How to start the service. */
export interface ServiceOptions {
  modelFile: string;
  db: RatingsDb;
  /** Fastify's logger: true for JSON lines on stdout, false for none. */
  logger?: boolean;
}

/** Most movies one request may ask for. */
export const MAX_K = 100;
/** Largest request body, in bytes. */
export const BODY_LIMIT = 64 * 1024;

const movieSchema = {
  type: "object",
  properties: {
    movieId: { type: "integer" },
    title: { type: "string" },
    year: { type: ["integer", "null"] },
    genres: { type: "array", items: { type: "string" } },
    score: { type: "number" },
  },
} as const;

const recommendedSchema = {
  type: "object",
  properties: {
    ...movieSchema.properties,
    because: {
      anyOf: [
        { type: "null" },
        { type: "object", properties: { movieId: { type: "integer" }, title: { type: "string" } } },
      ],
    },
  },
} as const;

const errorSchema = {
  type: "object",
  properties: { error: { type: "string" }, message: { type: "string" } },
} as const;
const userParam = {
  type: "string",
  pattern: "^[A-Za-z0-9_-]{1,64}$",
  description: "a user id of the model, or any visitor id",
};
const kQuery = { type: "integer", minimum: 1, maximum: MAX_K, default: 10 };
const ratingBody = { type: "number", description: "on the model's rating scale" };

/**
 * The aerec HTTP service: model info, movie search, similar movies, recommendations for stored users and
 * for anonymous ratings (fold-in, no retraining), and users' ratings kept in SQLite, which change their
 * next recommendations at once. Every route has a JSON schema; the OpenAPI document is at /openapi.json
 * and browsable at /docs. Bad input gets a 4xx with a message, never a 500.
 */
export async function buildService(
  options: ServiceOptions,
): Promise<{ app: FastifyInstance; reload: () => Promise<void> }> {
  const { db } = options;
  let state: ServiceState = await openService(options.modelFile);
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT,
    // Refuse unknown fields instead of silently dropping them.
    ajv: { customOptions: { removeAdditional: false } },
  });

  await app.register(swagger, {
    openapi: {
      info: { title: "aerec", version: "1", description: "Autoencoder movie recommendations over HTTP." },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  // The page (built by `npm run build:web`); @fastify/static keeps every path inside its folder.
  const page = fileURLToPath(new URL("../../web/dist", import.meta.url));
  if (existsSync(page)) await app.register(fastifyStatic, { root: page, prefix: "/", index: "index.html" });
  else app.log.warn(`no web page at ${page}: run "npm run build:web"; the API works without it`);

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    if (error instanceof RatingsError)
      return reply.status(400).send({ error: "Bad Request", message: error.message });
    if (error instanceof HttpError) {
      const name = error.status === 404 ? "Not Found" : "Bad Request";
      return reply.status(error.status).send({ error: name, message: error.message });
    }
    const status = error.statusCode;
    if (status && status >= 400 && status < 500) {
      return reply
        .status(status)
        .send({ error: STATUS_CODES[status] ?? "Client Error", message: error.message });
    }
    app.log.error(error);
    return reply
      .status(500)
      .send({ error: "Internal Server Error", message: "unexpected error; see the service log" });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: "Not Found", message: `no route ${request.method} ${request.url}` }),
  );

  const movieOr404 = (movieId: number) => {
    const movie = state.movie(movieId);
    if (!movie) throw new HttpError(404, `unknown movie id ${movieId}`);
    return movie;
  };
  /** Numeric ids name users of the model; other ids are visitors, who need no account. */
  const checkUser = (user: string) => {
    if (/^\d+$/.test(user) && state.recommender.userIds.indexOf(Number(user)) < 0) {
      throw new HttpError(
        404,
        `unknown user ${user}: numeric ids are the model's users; a visitor id has a letter in it`,
      );
    }
  };
  const checkRating = (rating: number, field: string) => {
    const { min, max, step } = state.scale;
    if (!onScale(rating, state.scale)) {
      throw new HttpError(
        400,
        `${field} ${rating} is not a rating on the scale ${min}..${max} in steps of ${step}`,
      );
    }
  };
  /** A user's ratings: his training ratings (model users), overridden and extended by those stored here. */
  const ratingsOf = (user: string, stored: StoredRating[]): MovieRating[] => {
    const merged = new Map<number, number>();
    if (/^\d+$/.test(user))
      for (const r of state.recommender.trainingRatings(Number(user))) merged.set(r.movieId, r.rating);
    for (const r of stored) if (state.movie(r.movieId)) merged.set(r.movieId, r.rating);
    return [...merged].map(([movieId, rating]) => ({ movieId, rating }));
  };
  const withReasons = (items: MovieScore[], ratings: MovieRating[]) => {
    const reasons = state.recommender.because(
      items.map((m) => m.movieId),
      ratings,
    );
    return items.map((m, i) => {
      const reason = reasons[i];
      return { ...m, because: reason && { movieId: reason.movieId, title: reason.title } };
    });
  };

  app.get("/health", { schema: { tags: ["service"], summary: "the process is up" } }, async () => ({
    status: "ok",
  }));
  app.get(
    "/ready",
    { schema: { tags: ["service"], summary: "a model is loaded and the database is open" } },
    async () => ({
      ready: true,
      model: state.header.kind,
      storedRatings: db.count(),
    }),
  );

  app.get(
    "/api/model",
    { schema: { tags: ["model"], summary: "what the model is, its metrics and its training curve" } },
    async () => {
      const h = state.header;
      const training = h.training as {
        history?: { epoch: number; trainLoss: number; validationRmse?: number }[];
      };
      return {
        kind: h.kind,
        dataset: h.dataset,
        split: h.split,
        config: h.config,
        scale: h.scale,
        users: h.nUsers,
        movies: h.nItems,
        metrics: h.metrics,
        history: (training.history ?? []).map(({ epoch, trainLoss, validationRmse }) => ({
          epoch,
          trainLoss,
          validationRmse,
        })),
      };
    },
  );

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
      },
    },
    async (request) => state.search(request.query),
  );

  app.get<{ Params: { movieId: number }; Querystring: { k: number } }>(
    "/api/movies/:movieId",
    {
      schema: {
        tags: ["movies"],
        summary: "a movie and the movies most similar to it",
        params: {
          type: "object",
          properties: { movieId: { type: "integer", minimum: 1 } },
          required: ["movieId"],
        },
        querystring: { type: "object", properties: { k: kQuery }, additionalProperties: false },
        response: {
          200: {
            type: "object",
            properties: { movie: movieSchema, similar: { type: "array", items: movieSchema } },
          },
          404: errorSchema,
        },
      },
    },
    async (request) => {
      const movie = movieOr404(request.params.movieId);
      return { movie, similar: state.recommender.similar(request.params.movieId, request.query.k) };
    },
  );

  app.get<{ Params: { user: string }; Querystring: { k: number } }>(
    "/api/users/:user/recommendations",
    {
      schema: {
        tags: ["recommendations"],
        summary: "a user's top k (his training ratings and the ratings stored here); popular movies for none",
        params: { type: "object", properties: { user: userParam }, required: ["user"] },
        querystring: { type: "object", properties: { k: kQuery }, additionalProperties: false },
        response: {
          200: {
            type: "object",
            properties: {
              user: { type: "string" },
              known: { type: "boolean" },
              items: { type: "array", items: recommendedSchema },
            },
          },
        },
      },
    },
    async (request) => {
      const { user } = request.params;
      checkUser(user);
      const { k } = request.query;
      const stored = db.list(user);
      const ratings = ratingsOf(user, stored);
      if (ratings.length === 0)
        return { user, known: false, items: withReasons(state.recommender.popular(k), []) };
      const items =
        stored.length > 0
          ? state.recommender.forRatings(ratings, k)
          : state.recommender.forUser(Number(user), k).items;
      return { user, known: true, items: withReasons(items, ratings) };
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
              maxItems: 1000,
              items: {
                type: "object",
                required: ["movieId", "rating"],
                additionalProperties: false,
                properties: { movieId: { type: "integer", minimum: 1 }, rating: ratingBody },
              },
            },
            k: kQuery,
          },
        },
        response: {
          200: {
            type: "object",
            properties: { user: { type: "null" }, items: { type: "array", items: recommendedSchema } },
          },
        },
      },
    },
    async (request) => {
      const { ratings } = request.body;
      ratings.forEach((r, i) => {
        if (!state.movie(r.movieId))
          throw new HttpError(400, `ratings[${i}].movieId: unknown movie id ${r.movieId}`);
        checkRating(r.rating, `ratings[${i}].rating`);
      });
      const items = state.recommender.forRatings(ratings, request.body.k ?? 10);
      return { user: null, items: withReasons(items, ratings) };
    },
  );

  const ratingParams = {
    type: "object",
    properties: { user: userParam, movieId: { type: "integer", minimum: 1 } },
    required: ["user", "movieId"],
  } as const;

  app.get<{ Params: { user: string } }>(
    "/api/users/:user/ratings",
    {
      schema: {
        tags: ["ratings"],
        summary: "the ratings stored for a user",
        params: { type: "object", properties: { user: userParam }, required: ["user"] },
      },
    },
    async (request) => {
      const { user } = request.params;
      checkUser(user);
      return {
        user,
        ratings: db.list(user).map((r) => ({ ...r, title: state.movie(r.movieId)?.title ?? null })),
      };
    },
  );

  app.put<{ Params: { user: string; movieId: number }; Body: { rating: number } }>(
    "/api/users/:user/ratings/:movieId",
    {
      schema: {
        tags: ["ratings"],
        summary: "add or change a rating",
        params: ratingParams,
        body: {
          type: "object",
          required: ["rating"],
          additionalProperties: false,
          properties: { rating: ratingBody },
        },
      },
    },
    async (request) => {
      const { user, movieId } = request.params;
      checkUser(user);
      movieOr404(movieId);
      checkRating(request.body.rating, "rating");
      return { user, ...db.put(user, movieId, request.body.rating) };
    },
  );

  app.delete<{ Params: { user: string; movieId: number } }>(
    "/api/users/:user/ratings/:movieId",
    { schema: { tags: ["ratings"], summary: "remove a stored rating", params: ratingParams } },
    async (request, reply) => {
      const { user, movieId } = request.params;
      checkUser(user);
      if (!db.remove(user, movieId))
        throw new HttpError(404, `user ${user} has no stored rating for movie ${movieId}`);
      return reply.status(204).send();
    },
  );

  app.post(
    "/api/admin/reload",
    { schema: { tags: ["service"], summary: "load the model file again (after retraining)" } },
    async () => {
      await reload();
      return { reloaded: true, model: state.header.kind };
    },
  );

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  /** Loads the model file again and swaps it in; requests in flight finish on the old one. */
  async function reload(): Promise<void> {
    const next = await openService(options.modelFile);
    state = next;
  }

  return { app, reload };
}
