import { createBackend, type KernelChoice } from "../kernels/index.js";
import { Recommender } from "../model/recommender.js";
import { type LoadedModel, loadModel } from "./model-file.js";

/** A recommender over a model file (any kind); fold-in follows the model's own settings. */
export async function openRecommender(
  file: string,
  kernels: KernelChoice = "auto",
  minRatings?: number,
): Promise<{ loaded: LoadedModel; recommender: Recommender }> {
  const backend = createBackend(kernels);
  const loaded = await loadModel(file, backend);
  const { model, userIds, itemIds, movies } = loaded;
  return { loaded, recommender: new Recommender(model, userIds, itemIds, movies, { minRatings, backend }) };
}
