/**
 * aerec: autoencoder recommenders for MovieLens ratings. The public library API.
 *
 * @example
 * ```ts
 * import { createBackend, fitModel, loadData, MODEL_DEFAULTS } from "aerec";
 * const data = await loadData("ml-100k", { split: "u1" });
 * const { model } = fitModel(data, MODEL_DEFAULTS["autorec-i"], createBackend());
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
export { barPanels, lineChart, type Series } from "./eval/charts.js";
export {
  COMPARABLE_MODELS,
  type ComparableModel,
  measure,
  type RunResult,
  runOne,
  summarize,
} from "./eval/compare.js";
export { type RatingMetrics, ratingMetrics, tutorialLoss } from "./eval/metrics.js";
export { svgToPng } from "./eval/png.js";
export { evaluateRanking, type RankedList, type RankingMetrics, rankingMetrics } from "./eval/ranking.js";
export { type Backend, createBackend, type KernelChoice, type Kernels } from "./kernels/index.js";
export { AutoencoderNetwork, type AutoencoderShape, type ParameterTensor } from "./model/autoencoder.js";
export {
  type AutoencoderConfig,
  AutoencoderModel,
  type InputScaling,
  type Orientation,
  transposeRatings,
} from "./model/autoencoder-model.js";
export {
  BASELINES,
  type BaselineKind,
  BIAS_DEFAULTS,
  BiasModel,
  fitBaseline,
  GlobalMean,
  MatrixFactorization,
  MF_DEFAULTS,
  type Predictor,
} from "./model/baselines.js";
export { Blend, type BlendMember, blendWeights, crossValidatedBlendRmse } from "./model/blend.js";
export { fallbackRating, type RatingMeans, ratingMeans } from "./model/means.js";
export { type Recommendation, topK } from "./model/recommend.js";
export {
  type MovieRating,
  type MovieScore,
  Recommender,
  type UserRecommendations,
} from "./model/recommender.js";
export {
  type LoadedModel,
  loadModel,
  MODEL_FORMAT_VERSION,
  type ModelHeader,
  saveModel,
} from "./store/model-file.js";
export { openRecommender } from "./store/open-recommender.js";
export { ModelFileError } from "./store/safetensors.js";
export { TrainingDivergedError } from "./train/errors.js";
export { type Checkpoint, type FitOutcome, fitModel } from "./train/fit.js";
export {
  BLEND_MEMBER_KINDS,
  BLEND_MEMBERS,
  BLEND_VALIDATION,
  type BlendMemberKind,
  type BlendOutcome,
  fitBlend,
} from "./train/fit-blend.js";
export { Lbfgs, type LbfgsConfig, lbfgsDefaults } from "./train/lbfgs.js";
export { Optimizer, type OptimizerConfig, optimizerDefaults } from "./train/optimizers.js";
export {
  MODEL_DEFAULTS,
  MODEL_KINDS,
  type ModelKind,
  type ModelSettings,
  TUTORIAL_PRESET,
} from "./train/presets.js";
export { ProgressBar } from "./train/progress.js";
export {
  type EpochReport,
  type TrainConfig,
  type TrainResult,
  trainAutoencoder,
} from "./train/train-autoencoder.js";
