import { createBackend, type KernelChoice } from "../kernels/index.js";
import { Recommender } from "../model/recommender.js";
import { type LoadedModel, loadModel } from "./model-file.js";

/** A recommender over a model file; the fold-in ridge follows the model's own L2 penalty. */
export async function openRecommender(
  file: string,
  kernels: KernelChoice = "auto",
  minRatings?: number,
): Promise<{ loaded: LoadedModel; recommender: Recommender }> {
  const loaded = await loadModel(file, createBackend(kernels));
  const train = (loaded.header.training as { train?: { l2?: number } }).train;
  const ridge = Math.max(1, (train?.l2 ?? 0) / 2);
  const { model, userIds, itemIds, movies } = loaded;
  return { loaded, recommender: new Recommender(model, userIds, itemIds, movies, { ridge, minRatings }) };
}
