import type { FastifyPluginAsync } from "fastify";
import type { RouteContext } from "./context.js";

/** GET /api/model: what the model is, its metrics and its training curve. */
export const modelRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  app.get(
    "/api/model",
    { schema: { tags: ["model"], summary: "what the model is, its metrics and its training curve" } },
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
};
