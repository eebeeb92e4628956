import { createBackend, type KernelChoice } from "../kernels/index.js";
import { Recommender } from "../model/recommender.js";
import { type LoadedModel, loadModel } from "./model-file.js";

/**
 * A recommender over a model file (any kind). The stars shown beside a top-N model's lists come from the
 * rating model saved in the same file, or from `ratingModelFile` (a rating model trained on the same data
 * set and split, with the same users and movies).
 */
export async function openRecommender(
  file: string,
  kernels: KernelChoice = "auto",
  minRatings?: number,
  ratingModelFile?: string,
): Promise<{ loaded: LoadedModel; recommender: Recommender }> {
  const backend = createBackend(kernels);
  const loaded = await loadModel(file, backend);
  let rater = loaded.rater;
  if (ratingModelFile) {
    const other = await loadModel(ratingModelFile, backend);
    if (
      other.header.dataset !== loaded.header.dataset ||
      other.header.split !== loaded.header.split ||
      !other.userIds.equals(loaded.userIds) ||
      !other.itemIds.equals(loaded.itemIds)
    ) {
      throw new Error(
        `${ratingModelFile} was trained on ${other.header.dataset} ${other.header.split}, ${file} on ` +
          `${loaded.header.dataset} ${loaded.header.split}: a rating model must share the ranker's data and split`,
      );
    }
    if (other.model.ranksOnly)
      throw new Error(`${ratingModelFile} holds a top-N model (${other.model.kind}), not a rating model`);
    rater = other.model;
  }
  const { model, userIds, itemIds, movies } = loaded;
  const recommender = new Recommender(model, userIds, itemIds, movies, { minRatings, backend, rater });
  return { loaded, recommender };
}
