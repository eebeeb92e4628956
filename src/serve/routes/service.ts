import type { FastifyPluginAsync } from "fastify";
import { bearerToken } from "../access.js";
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
    "/api/visitors",
    {
      schema: {
        tags: ["ratings"],
        summary: "a new visitor: an id and the token his rating writes carry (Authorization: Bearer TOKEN)",
        response: {
          201: {
            type: "object",
            properties: { user: { type: "string" }, token: { type: "string" } },
          },
        },
      },
    },
    async (_request, reply) => reply.status(201).send(ctx.access.newVisitor()),
  );

  app.post(
    "/api/admin/reload",
    {
      schema: {
        tags: ["service"],
        summary: "load the model file again (after retraining); needs the admin token",
        security: [{ bearer: [] }],
      },
    },
    async (request) => {
      ctx.access.requireAdmin(bearerToken(request.headers.authorization));
      await ctx.reload();
      return { reloaded: true, model: ctx.state().info.kind };
    },
  );

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
};
