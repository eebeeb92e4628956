import type { Command } from "commander";
import { importOptional, SERVICE_PACKAGES } from "../optional.js";
import { MAX_RATINGS } from "../serve/schemas.js";
import { intArg } from "./options.js";

interface ServeFlags {
  modelFile: string;
  ratingModelFile?: string;
  port: number;
  host: string;
  db: string;
  quiet?: boolean;
  maxRatings: number;
  foldInWorkers: number;
  maxQueued: number;
  adminToken?: string;
  cors?: string[];
}

/** How long a graceful stop waits for the requests in flight. */
const SHUTDOWN_MS = 15_000;

async function runServe(flags: ServeFlags): Promise<void> {
  // The service's packages are optional dependencies: loaded here, so that every other command runs without them.
  const { buildService, openRatingsStore } = await importOptional(
    "aerec serve",
    SERVICE_PACKAGES,
    async () => ({
      ...(await import("../serve/app.js")),
      ...(await import("../serve/postgres-ratings.js")),
    }),
  );
  const db = await openRatingsStore(flags.db);
  const { app, reload } = await buildService({
    modelFile: flags.modelFile,
    ratingModelFile: flags.ratingModelFile,
    db,
    // --quiet drops the request log, never the errors.
    logger: flags.quiet ? "errors" : true,
    maxRatings: flags.maxRatings,
    foldIn: { workers: flags.foldInWorkers, maxQueued: flags.maxQueued },
    adminToken: flags.adminToken ?? process.env.AEREC_ADMIN_TOKEN,
    cors: flags.cors,
  });
  await app.listen({ port: flags.port, host: flags.host });
  process.stderr.write(
    `aerec serving ${flags.modelFile} on http://${flags.host}:${flags.port} (API docs: /docs, ratings in ${db.where}); ` +
      "SIGHUP reloads the model file\n",
  );
  process.on("SIGHUP", () => {
    reload().then(
      () => app.log.info({ modelFile: flags.modelFile }, "model reloaded"),
      // reload() has logged why.
      () => {},
    );
  });
  // Graceful: stop accepting, let the requests in flight finish (fold-ins included), close the database.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(
      `${signal}: finishing the requests in flight, then stopping (again to stop at once)\n`,
    );
    setTimeout(() => {
      process.stderr.write(`still busy after ${SHUTDOWN_MS / 1000} s: stopping anyway\n`);
      process.exit(1);
    }, SHUTDOWN_MS).unref();
    app
      .close()
      .then(() => db.close())
      .then(
        () => {
          process.stderr.write("stopped\n");
          process.exit(0);
        },
        (e) => {
          process.stderr.write(`stopping failed: ${e instanceof Error ? e.message : String(e)}\n`);
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** `aerec serve`. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve recommendations over HTTP, with ratings kept in SQLite")
    .requiredOption("--model-file <file>", "a model saved by aerec train --save")
    .option(
      "--rating-model-file <file>",
      "a rating model trained on the same data, for the stars beside a top-N model's lists",
    )
    .option("--port <port>", "TCP port", intArg(0, 65535), 8080)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option(
      "--db <file|url>",
      "where the ratings people add are kept: a SQLite file (created on first start), or postgres://user:password@host/db for several replicas",
      "aerec-ratings.db",
    )
    .option(
      "--max-ratings <n>",
      "most ratings one anonymous request may carry and one user may have stored (bounds a fold-in's cost)",
      intArg(1, 100_000),
      MAX_RATINGS,
    )
    .option(
      "--fold-in-workers <n>",
      "worker threads that fold people in off the event loop, each with a copy of the model (0: none)",
      intArg(0, 64),
      1,
    )
    .option(
      "--max-queued <n>",
      "fold-ins that may wait for a worker; more are answered 503 with Retry-After",
      intArg(0, 10_000),
      16,
    )
    .option(
      "--admin-token <token>",
      "needed (Authorization: Bearer TOKEN) for /api/admin/* and for writing a model user's ratings; default $AEREC_ADMIN_TOKEN; without one the admin routes are off",
    )
    .option(
      "--cors <origins>",
      'origins that may call the API from a browser, comma-separated, or "*" (default: none)',
      (t) => t.split(",").map((o) => o.trim()),
    )
    .option("--quiet", "no request log (errors are still logged)")
    .addHelpText(
      "after",
      `
Endpoints (JSON; the OpenAPI document is at /openapi.json, browsable at /docs):
  GET    /health, /ready, /metrics (Prometheus)
  GET    /api/model                                  what the model is, its metrics and training curve
  GET    /api/model/curve.svg                        the training curve as a chart
  GET    /api/movies?q=star&genre=Sci-Fi&page=1      search, most rated first
  GET    /api/movies/:movieId?k=10                   a movie and its most similar movies
  GET    /api/users/:user/recommendations?k=10       top k, with "because you rated ..."
  POST   /api/recommendations  {"ratings":[{"movieId":50,"rating":5}],"k":10}
  GET    /api/users/:user/ratings
  PUT    /api/users/:user/ratings/:movieId  {"rating":4}
  DELETE /api/users/:user/ratings/:movieId
  POST   /api/visitors                               a new visitor: {"user", "token"}
  POST   /api/admin/reload                           load the model file again (or send SIGHUP); admin token

Reading is open. Writing a visitor's ratings needs his token (Authorization: Bearer TOKEN, from POST
/api/visitors); writing a model user's ratings, and reloading, need --admin-token.

The lists are ranked by the model file's model; the stars beside them come from a rating model: the model
itself (autorec-i, sae, ...), the one saved beside a top-N model (train --rater), or --rating-model-file.

Examples:
  aerec train --model ease --rater autorec-i --save ease.safetensors
  aerec serve --model-file ease.safetensors --port 8080
  aerec serve --model-file ease.safetensors --rating-model-file autorec.safetensors`,
    )
    .action((opts: ServeFlags) => runServe(opts));
}
