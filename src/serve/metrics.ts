import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ServiceState } from "./state.js";

/** Latency buckets in seconds: a cached list takes a millisecond, a large fold-in a second. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The service's Prometheus metrics, in a registry of its own: requests and their latency by route and
 * status, fold-in time, the model being served (its kind and fingerprint), and Node's process metrics.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: "aerec_http_requests_total",
    help: "HTTP requests answered, by method, route and status",
    labelNames: ["method", "route", "status"],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: "aerec_http_request_duration_seconds",
    help: "time to answer an HTTP request, by method and route",
    labelNames: ["method", "route"],
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly foldIn = new Histogram({
    name: "aerec_fold_in_seconds",
    help: "time to fold someone in from his ratings (queue wait included)",
    buckets: BUCKETS,
    registers: [this.registry],
  });
  private readonly model = new Gauge({
    name: "aerec_model_info",
    help: "the model being served (1), by kind and file fingerprint",
    labelNames: ["kind", "rater", "fingerprint"],
    registers: [this.registry],
  });
  private readonly loadedAt = new Gauge({
    name: "aerec_model_loaded_timestamp_seconds",
    help: "when the model being served was loaded",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "aerec_" });
  }

  /** Counts every answer of `app`, under its route pattern (not the raw URL, which would not bound the labels). */
  observe(app: FastifyInstance): void {
    app.addHook("onResponse", async (request, reply) => {
      const route = request.routeOptions.url ?? "unmatched";
      this.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      this.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
  }

  /** Records the model now served. */
  served(state: ServiceState): void {
    this.model.reset();
    const { kind, rater, fingerprint } = state.info;
    this.model.set({ kind, rater: rater ?? "", fingerprint: fingerprint ?? "" }, 1);
    this.loadedAt.set(Date.now() / 1000);
  }
}
