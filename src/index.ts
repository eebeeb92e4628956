/**
 * aerec: autoencoder recommenders for MovieLens ratings. The public library API.
 *
 * @example
 * ```ts
 * import { createBackend, loadData, SaeModel, SAE_DEFAULT, trainSae, validationSplit } from "aerec";
 * const data = await loadData("ml-100k", { split: "u1" });
 * const { fit, validation } = validationSplit(data.train, SAE_DEFAULT.validation, 1);
 * const model = new SaeModel(SAE_DEFAULT.hidden, fit, data.scale, createBackend(), SAE_DEFAULT.inputScaling);
 * model.network.initialize(1);
 * trainSae(model, SAE_DEFAULT.train, { validation });
 * model.useRatings(data.train);
 * const predictions = model.predict(data.test);
 * ```
 */
export {
  DATASET_NAMES,
  type DatasetInfo,
  type DatasetName,
  datasetInfo,
  type RatingScale,
} from "./data/datasets.js";
export { DownloadError, type DownloadOptions, downloadDataset } from "./data/download.js";
export { DataFormatError, DataNotFoundError } from "./data/errors.js";
export { cacheDir, type DataOptions, type LoadedData, loadData } from "./data/load.js";
export type { Movie, UserInfo } from "./data/movies.js";
export { Rng } from "./data/random.js";
export { buildCsr, type Csr, IdMap, Ratings } from "./data/ratings.js";
export { kfoldSplit, parseSplit, ratioSplit, type SplitSpec, validationSplit } from "./data/splits.js";
export {
  generateRatings,
  parseSyntheticShape,
  SYNTHETIC_PRESETS,
  type SyntheticShape,
} from "./data/synthetic.js";
export { type RatingMetrics, ratingMetrics, tutorialLoss } from "./eval/metrics.js";
export { type Backend, createBackend, type KernelChoice, type Kernels } from "./kernels/index.js";
export { fallbackRating, type RatingMeans, ratingMeans } from "./model/means.js";
export { type Recommendation, topK } from "./model/recommend.js";
export { SaeNetwork, type SaeShape } from "./model/sae.js";
export { type InputScaling, SaeModel } from "./model/sae-model.js";
export {
  type LoadedModel,
  loadModel,
  MODEL_FORMAT_VERSION,
  type ModelHeader,
  saveModel,
} from "./store/model-file.js";
export { ModelFileError } from "./store/safetensors.js";
export { TrainingDivergedError } from "./train/errors.js";
export { Optimizer, type OptimizerConfig, optimizerDefaults } from "./train/optimizers.js";
export { ProgressBar } from "./train/progress.js";
export { SAE_DEFAULT, type SaeSettings, TUTORIAL_PRESET } from "./train/sae-presets.js";
export { type EpochReport, type SaeTrainConfig, type TrainResult, trainSae } from "./train/train-sae.js";
