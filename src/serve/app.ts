import { existsSync } from "node:fs";
import { STATUS_CODES } from "node:http";
import { fileURLToPath } from "node:url";
import cors from "@fastify/cors";
import fastifyStatic from "@fastify/static";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { Ajv, type ErrorObject } from "ajv";
import Fastify, { type FastifyInstance } from "fastify";
import { RatingsError } from "../model/recommender.js";
import { Access } from "./access.js";
import { HttpError } from "./errors.js";
import type { FoldInPoolOptions } from "./fold-in-pool.js";
import { ServiceMetrics } from "./metrics.js";
import type { RatingsStore } from "./ratings-db.js";
import type { RouteContext } from "./routes/context.js";
import { modelRoutes } from "./routes/model.js";
import { movieRoutes } from "./routes/movies.js";
import { ratingRoutes } from "./routes/ratings.js";
import { recommendationRoutes } from "./routes/recommendations.js";
import { serviceRoutes } from "./routes/service.js";
import { MAX_RATINGS } from "./schemas.js";
import { openService, type ServiceState } from "./state.js";

/** How to start the service. */
export interface ServiceOptions {
  modelFile: string;
  /** A rating model trained on the same data, for the stars beside a top-N model's lists. */
  ratingModelFile?: string;
  db: RatingsStore;
  /** Fastify's logger: true for JSON lines on stdout, "errors" for error lines only, false for none. */
  logger?: boolean | "errors";
  /** Most ratings an anonymous request may carry and a user may have stored (default MAX_RATINGS). */
  maxRatings?: number;
  /** Overrides of TIMEOUTS. */
  timeouts?: Partial<Timeouts>;
  /** The fold-in worker threads (default: one worker, 16 queued, 10 s each). */
  foldIn?: FoldInPoolOptions;
  /** Needed for /api/admin/* and for writing a model user's ratings; without it the admin routes are off. */
  adminToken?: string;
  /** Origins that may call the API from a browser ("*" for any); none by default. */
  cors?: string[];
}

export { MAX_K, MAX_RATINGS } from "./schemas.js";
/** Largest request body, in bytes. */
export const BODY_LIMIT = 64 * 1024;

/** How long a client may take, so that slow or stalled connections cannot pile up. */
export interface Timeouts {
  /** To send the request line and headers. */
  headersMs: number;
  /** To send the whole request, body included (answered 408 past it). */
  requestMs: number;
  /** An idle kept-alive connection stays open this long. */
  keepAliveMs: number;
  /** A socket with no traffic at all is closed after this long. */
  idleMs: number;
}

/** The service's timeouts. */
export const TIMEOUTS: Timeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
  idleMs: 60_000,
};

/**
 * The aerec HTTP service: model info, movie search, similar movies, recommendations for stored users and
 * for anonymous ratings (fold-in, no retraining), and users' ratings kept in SQLite, which change their
 * next recommendations at once. Every route has a JSON schema; the OpenAPI document is at /openapi.json
 * and browsable at /docs. Bad input gets a 4xx with a message, never a 500.
 */
export async function buildService(
  options: ServiceOptions,
): Promise<{ app: FastifyInstance; reload: () => Promise<void> }> {
  const load = () => openService(options.modelFile, options.ratingModelFile, options.foldIn);
  return buildApp({ ...options, state: await load(), load });
}

/**
 * The service over a state built by the caller (any model kind; see serviceState), so that the routes can
 * be run without a model file. `load` gives the state that a reload swaps in.
 */
export async function buildApp(
  options: Pick<ServiceOptions, "db" | "logger" | "maxRatings" | "timeouts" | "adminToken" | "cors"> & {
    state: ServiceState;
    load?: () => Promise<ServiceState>;
  },
): Promise<{ app: FastifyInstance; reload: () => Promise<void> }> {
  const { db } = options;
  let state = options.state;
  /** Every route's method and path, for the 405 answer to a path that exists under other methods. */
  const routes: { method: string; path: RegExp }[] = [];
  const timeouts = { ...TIMEOUTS, ...options.timeouts };
  const app = Fastify({
    logger: options.logger === "errors" ? { level: "error" } : (options.logger ?? false),
    bodyLimit: BODY_LIMIT,
    // Longer than the longest id the schemas take (MAX_ID_LENGTH, URL-encoded), so that they, not the router, answer.
    routerOptions: { maxParamLength: 1024 },
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionTimeout: timeouts.idleMs,
    http: {
      headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs),
      // How often Node looks for requests past their time (its default, 30 s, would let them linger).
      connectionsCheckingInterval: Math.min(1000, timeouts.requestMs),
    },
    // Refuse unknown fields instead of silently dropping them.
    ajv: { customOptions: { removeAdditional: false } },
  });

  await app.register(swagger, {
    openapi: {
      info: { title: "aerec", version: "1", description: "Autoencoder movie recommendations over HTTP." },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  if (options.cors?.length)
    await app.register(cors, {
      origin: options.cors.includes("*") ? "*" : options.cors,
      methods: ["GET", "POST", "PUT", "DELETE"],
    });
  // The page (built by `npm run build:web`); @fastify/static keeps every path inside its folder.
  const page = fileURLToPath(new URL("../../web/dist", import.meta.url));
  if (existsSync(page)) await app.register(fastifyStatic, { root: page, prefix: "/", index: "index.html" });
  else app.log.warn(`no web page at ${page}: run "npm run build:web"; the API works without it`);

  app.setValidatorCompiler(validatorFor);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, path: pathPattern(route.url) });
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    if (error instanceof RatingsError)
      return reply.status(400).send({ error: "Bad Request", message: error.message });
    if (error instanceof HttpError) {
      const name = STATUS_CODES[error.status] ?? "Client Error";
      return reply.status(error.status).headers(error.headers).send({ error: name, message: error.message });
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
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0];
    const allowed = [...new Set(routes.filter((r) => r.path.test(path)).map((r) => r.method))];
    if (allowed.length > 0) {
      return reply
        .status(405)
        .header("allow", allowed.join(", "))
        .send({
          error: "Method Not Allowed",
          message: `${path} answers ${allowed.join(", ")}, not ${request.method}`,
        });
    }
    return reply
      .status(404)
      .send({ error: "Not Found", message: `no route ${request.method} ${request.url}` });
  });

  const metrics = new ServiceMetrics();
  metrics.observe(app);
  const context: RouteContext = {
    state: () => state,
    metrics,
    db,
    reload,
    maxRatings: options.maxRatings ?? MAX_RATINGS,
    access: new Access(await db.secret(), options.adminToken),
  };
  for (const plugin of [serviceRoutes, modelRoutes, movieRoutes, recommendationRoutes, ratingRoutes])
    await app.register(plugin, context);
  app.addHook("onClose", () => state.close());
  metrics.served(state);
  app.get(
    "/metrics",
    { schema: { tags: ["service"], summary: "Prometheus metrics" } },
    async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  /**
   * Loads the model again and swaps it in; requests in flight finish on the old one. A file that does not
   * load leaves the old model serving: a 409 with the reason, and an error line in the log.
   */
  async function reload(): Promise<void> {
    if (!options.load) throw new HttpError(409, "this service has no model file to reload");
    try {
      const previous = state;
      state = await options.load();
      metrics.served(state);
      // Fold-ins under way on the old model finish there before its workers stop.
      previous.close().catch((e) => app.log.error({ err: e }, "closing the previous model's workers failed"));
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      app.log.error({ err: e }, "model reload failed; still serving the previous model");
      throw new HttpError(409, `the model was not reloaded, and the previous one still serves: ${reason}`);
    }
  }

  return { app, reload };
}

// Bodies are JSON and must hold the types their schema names: no coercion (true is not 1, "2" is not 2,
// [5] is not 5). The path and query arrive as text, so their values are converted, but an integer field
// must be written as one (digits, with a sign): "Infinity", "1e309" and "2.5" are refused.
// Ids are numbers or text (type ["integer", "string"]).
const bodyAjv = new Ajv({
  coerceTypes: false,
  useDefaults: true,
  removeAdditional: false,
  allowUnionTypes: true,
});
const textAjv = new Ajv({
  coerceTypes: "array",
  useDefaults: true,
  removeAdditional: false,
  allowUnionTypes: true,
});
const INTEGER_TEXT = /^[+-]?\d{1,15}$/;

type SchemaObject = { properties?: Record<string, { type?: unknown }> };

function validatorFor({ schema, httpPart }: { schema: object; httpPart?: string }) {
  if (httpPart === "body") return bodyAjv.compile(schema);
  const validate = textAjv.compile(schema);
  const integers = Object.entries((schema as SchemaObject).properties ?? {})
    .filter(([, p]) => p.type === "integer")
    .map(([name]) => name);
  if (integers.length === 0) return validate;
  return (data: Record<string, unknown> | null) => {
    for (const name of integers) {
      const raw = data?.[name];
      if (raw !== undefined && !INTEGER_TEXT.test(String(raw))) {
        const error = new Error(`${httpPart}/${name} must be a whole number, not ${JSON.stringify(raw)}`);
        return { error: Object.assign(error, { statusCode: 400 }) };
      }
    }
    return validate(data) ? true : { error: validationError(validate.errors, httpPart) };
  };
}

function validationError(errors: ErrorObject[] | null | undefined, part?: string): Error {
  const first = errors?.[0];
  const where = `${part ?? "request"}${first?.instancePath ?? ""}`;
  return Object.assign(new Error(`${where} ${first?.message ?? "is not valid"}`), { statusCode: 400 });
}

/** A route URL ("/api/users/:user/ratings/:movieId", "/docs/*") as a regular expression over paths. */
function pathPattern(url: string): RegExp {
  const escaped = url.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped.replace(/:[A-Za-z]+/g, "[^/]+").replace(/\*/g, ".*")}$`);
}
