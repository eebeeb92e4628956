import type { FastifyPluginAsync } from "fastify";
import type { RouteContext } from "./context.js";

/** Health, readiness, reload and the OpenAPI document. */
export const serviceRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  app.get("/health", { schema: { tags: ["service"], summary: "the process is up" } }, async () => ({
    status: "ok",
  }));
  app.get(
    "/ready",
    { schema: { tags: ["service"], summary: "a model is loaded and the database is open" } },
    async () => ({
      ready: true,
      model: ctx.state().info.kind,
      storedRatings: await ctx.db.count(),
    }),
  );

  app.post(
    "/api/admin/reload",
    { schema: { tags: ["service"], summary: "load the model file again (after retraining)" } },
    async () => {
      await ctx.reload();
      return { reloaded: true, model: ctx.state().info.kind };
    },
  );

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
};
