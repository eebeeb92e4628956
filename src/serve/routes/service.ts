import type { FastifyPluginAsync } from "fastify";
import { bearerToken } from "../access.js";
import { responses } from "../schemas.js";
import type { RouteContext } from "./context.js";

/** Health, readiness, reload and the OpenAPI document. */
export const serviceRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  app.get(
    "/health",
    {
      schema: {
        tags: ["service"],
        summary: "the process is up",
        response: { 200: { type: "object", properties: { status: { type: "string" } } } },
      },
    },
    async () => ({ status: "ok" }),
  );
  app.get(
    "/ready",
    {
      schema: {
        tags: ["service"],
        summary: "a model is loaded and the database is open",
        response: {
          200: {
            type: "object",
            properties: {
              ready: { type: "boolean" },
              model: { type: "string" },
              storedRatings: { type: "integer" },
            },
          },
        },
      },
    },
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
            properties: {
              user: { type: "string", description: "v- and 128 random bits" },
              token: { type: "string", description: "what his writes carry: Authorization: Bearer TOKEN" },
            },
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
        response: responses(
          {
            200: { type: "object", properties: { reloaded: { type: "boolean" }, model: { type: "string" } } },
          },
          [401, 403, 409],
        ),
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
