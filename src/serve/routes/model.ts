import type { FastifyPluginAsync } from "fastify";
import { keptEpoch, trainingCurve } from "../../eval/charts.js";
import { HttpError } from "../errors.js";
import { responses, scaleSchema } from "../schemas.js";
import type { RouteContext } from "./context.js";

/** GET /api/model: what the model is, its metrics and its training curve. */
export const modelRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  app.get(
    "/api/model",
    {
      schema: {
        tags: ["model"],
        summary: "what the model is, its metrics and its training curve",
        response: {
          200: {
            type: "object",
            properties: {
              kind: { type: "string" },
              rater: { type: ["string", "null"] },
              dataset: { type: "string" },
              split: { type: "string" },
              description: { type: "string" },
              fingerprint: { type: "string" },
              users: { type: "integer" },
              movies: { type: "integer" },
              scale: scaleSchema,
              config: { type: "object", additionalProperties: true },
              metrics: { type: "object", additionalProperties: true },
              history: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    epoch: { type: "integer" },
                    trainLoss: { type: "number" },
                    validationRmse: { type: "number" },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => {
      const { info, recommender } = ctx.state();
      return {
        ...info,
        description: recommender.model.describe(),
        users: recommender.userIds.size,
        movies: recommender.itemIds.size,
        history: info.history.map(({ epoch, trainLoss, validationRmse }) => ({
          epoch,
          trainLoss,
          validationRmse,
        })),
      };
    },
  );

  app.get(
    "/api/model/curve.svg",
    {
      schema: {
        tags: ["model"],
        summary: "the training curve as an SVG chart (404 for a model fitted in closed form)",
        produces: ["image/svg+xml"],
        response: responses({ 200: { type: "string", description: "an SVG document" } }, [404]),
      },
    },
    async (_request, reply) => {
      const { info } = ctx.state();
      const svg = trainingCurve(
        info.history,
        `${info.kind} on ${info.dataset} ${info.split}`,
        keptEpoch(info.history),
      );
      if (!svg) throw new HttpError(404, `${info.kind} is fitted in closed form: it has no training curve`);
      // A reload swaps the model under the same URL.
      return reply.type("image/svg+xml").header("cache-control", "no-cache").send(svg);
    },
  );
};
