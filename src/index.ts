/**
 * aerec: autoencoder recommenders for ratings (MovieLens, or your own files). The public library API.
 *
 * @example
 * ```ts
 * import { createBackend, fitModel, loadData, loadRatingsFile, predict } from "aerec";
 * const data = await loadData("ml-100k", { split: "u1" }); // or: await loadRatingsFile("ratings.csv")
 * const { model } = fitModel("autorec-i", data, { backend: createBackend() });
 * const predictions = predict(model, data.test);
 * ```
 */
export {
  DATASET_NAMES,
  type DatasetInfo,
  type DatasetName,
  datasetInfo,
  type RatingScale,
  relevantFrom,
  scaledRating,
} from "./data/datasets.js";
export { type DelimitedFormat, type DelimitedOptions, inferScale } from "./data/delimited.js";
export { DownloadError, type DownloadOptions, downloadDataset } from "./data/download.js";
export { DataFormatError, DataNotFoundError } from "./data/errors.js";
export { type FileSource, loadFiles, loadRatingsFile, readItems } from "./data/files.js";
export { cacheDir, type DataOptions, type LoadedData, loadData } from "./data/load.js";
export type { Movie, UserInfo } from "./data/movies.js";
export { Rng } from "./data/random.js";
export { buildCsr, type Csr, compareRawIds, IdMap, Ratings, type RawId, rawIdOf } from "./data/ratings.js";
export {
  kfoldSplit,
  parseSplit,
  ratioSplit,
  type SplitSpec,
  timeSplit,
  validationSplit,
} from "./data/splits.js";
export {
  generateRatings,
  parseSyntheticShape,
  SYNTHETIC_PRESETS,
  type SyntheticShape,
} from "./data/synthetic.js";
export { barPanels, type ChartMarker, lineChart, type Series } from "./eval/charts.js";
export {
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
export { BIAS_DEFAULTS, BiasModel, type BiasSettings, biasKind } from "./model/bias.js";
export { Blend, blendWeights, crossValidatedBlendRmse } from "./model/blend.js";
export { EASE_DEFAULTS, EaseModel, type EaseSettings, easeKind } from "./model/ease.js";
export { GlobalMean, globalMeanKind } from "./model/global-mean.js";
export {
  MatrixFactorization,
  MF_DEFAULTS,
  type MfSettings,
  matrixFactorizationKind,
} from "./model/matrix-factorization.js";
export { fallbackRating, type RatingMeans, ratingMeans } from "./model/means.js";
export {
  clipToScale,
  type EpochReport,
  type FitContext,
  type FitOutcome,
  type LoadContext,
  type Model,
  type ModelKind,
  predict,
  type SavedParameters,
  type SettingOverrides,
  type Tensor,
  type TrainingSet,
} from "./model/model.js";
export { type MultConfig, MultModel, MultNetwork } from "./model/mult-vae.js";
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
export { type Checkpoint, fitAutoencoder } from "./train/fit.js";
export {
  BLEND_MEMBERS,
  BLEND_VALIDATION,
  type BlendOutcome,
  type BlendSettings,
  blendKind,
  fitBlend,
} from "./train/fit-blend.js";
export { Lbfgs, type LbfgsConfig, lbfgsDefaults } from "./train/lbfgs.js";
export {
  MULT_DAE_DEFAULTS,
  MULT_VAE_DEFAULTS,
  type MultSettings,
  multDaeKind,
  multVaeKind,
} from "./train/mult-vae-kind.js";
export { Optimizer, type OptimizerConfig, optimizerDefaults } from "./train/optimizers.js";
export {
  AUTOENCODER_KINDS,
  type AutoencoderKindName,
  MODEL_DEFAULTS,
  type ModelSettings,
  TUTORIAL_PRESET,
} from "./train/presets.js";
export {
  checkSettings,
  defaultSettings,
  fitModel,
  MODEL_KINDS,
  MODEL_REGISTRY,
  modelKind,
} from "./train/registry.js";
export {
  type TrainConfig,
  type TrainResult,
  trainAutoencoder,
} from "./train/train-autoencoder.js";
