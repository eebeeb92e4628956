import { existsSync } from "node:fs";
import { STATUS_CODES } from "node:http";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance } from "fastify";
import { RatingsError } from "../model/recommender.js";
import { HttpError } from "./errors.js";
import type { RatingsDb } from "./ratings-db.js";
import type { RouteContext } from "./routes/context.js";
import { modelRoutes } from "./routes/model.js";
import { movieRoutes } from "./routes/movies.js";
import { ratingRoutes } from "./routes/ratings.js";
import { recommendationRoutes } from "./routes/recommendations.js";
import { serviceRoutes } from "./routes/service.js";
import { openService, type ServiceState } from "./state.js";

/** How to start the service. */
export interface ServiceOptions {
  modelFile: string;
  /** A rating model trained on the same data, for the stars beside a top-N model's lists. */
  ratingModelFile?: string;
  db: RatingsDb;
  /** Fastify's logger: true for JSON lines on stdout, false for none. */
  logger?: boolean;
}

export { MAX_K } from "./schemas.js";
/** Largest request body, in bytes. */
export const BODY_LIMIT = 64 * 1024;

/**
 * The aerec HTTP service: model info, movie search, similar movies, recommendations for stored users and
 * for anonymous ratings (fold-in, no retraining), and users' ratings kept in SQLite, which change their
 * next recommendations at once. Every route has a JSON schema; the OpenAPI document is at /openapi.json
 * and browsable at /docs. Bad input gets a 4xx with a message, never a 500.
 */
export async function buildService(
  options: ServiceOptions,
): Promise<{ app: FastifyInstance; reload: () => Promise<void> }> {
  const load = () => openService(options.modelFile, options.ratingModelFile);
  return buildApp({ state: await load(), load, db: options.db, logger: options.logger });
}

/**
 * The service over a state built by the caller (any model kind; see serviceState), so that the routes can
 * be run without a model file. `load` gives the state that a reload swaps in.
 */
export async function buildApp(options: {
  state: ServiceState;
  db: RatingsDb;
  load?: () => Promise<ServiceState>;
  logger?: boolean;
}): Promise<{ app: FastifyInstance; reload: () => Promise<void> }> {
  const { db } = options;
  let state = options.state;
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
      const name = STATUS_CODES[error.status] ?? "Client Error";
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

  const context: RouteContext = { state: () => state, db, reload };
  for (const routes of [serviceRoutes, modelRoutes, movieRoutes, recommendationRoutes, ratingRoutes])
    await app.register(routes, context);

  /** Loads the model again and swaps it in; requests in flight finish on the old one. */
  async function reload(): Promise<void> {
    if (!options.load) throw new HttpError(409, "this service has no model file to reload");
    state = await options.load();
  }

  return { app, reload };
}
