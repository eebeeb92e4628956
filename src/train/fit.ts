import type { LoadedData } from "../data/load.js";
import type { Ratings } from "../data/ratings.js";
import { validationSplit } from "../data/splits.js";
import type { Backend } from "../kernels/index.js";
import { AutoencoderModel } from "../model/autoencoder-model.js";
import type { ModelSettings } from "./presets.js";
import {
  type EpochReport,
  type TrainingState,
  type TrainResult,
  trainAutoencoder,
} from "./train-autoencoder.js";

/** Where a first-order training run stopped: its state, the last epoch's parameters, the model's offset. */
export interface Checkpoint {
  state: TrainingState;
  params: Float32Array;
  offset: number;
}

/** A trained model with how it was trained. */
export interface FitOutcome {
  model: AutoencoderModel;
  result: TrainResult;
  /** The ratings the model was trained on (training minus validation). */
  fit: Ratings;
  validation?: Ratings;
  /**
   * The early-stopped model's predictions for the validation ratings, made before any model read them (so
   * they can judge or blend models honestly).
   */
  validationPredictions?: Float32Array;
}

/**
 * Holds out `settings.validation` of the training ratings and trains on the rest with early stopping on the
 * held-out part. Then, with `settings.refit`, trains a fresh model on every training rating for the epoch
 * count validation chose; otherwise lets the early-stopped model read every training rating as input. The
 * test ratings are not touched.
 */
export function fitModel(
  data: LoadedData,
  settings: ModelSettings,
  backend: Backend,
  onEpoch?: (report: EpochReport) => void,
  resume?: Checkpoint,
): FitOutcome {
  const seed = settings.train.seed;
  const { fit, validation } =
    settings.validation > 0
      ? validationSplit(data.train, settings.validation, seed)
      : { fit: data.train, validation: undefined };
  if (resume && settings.refit) throw new Error("a model trained with --refit cannot be resumed");
  const model = new AutoencoderModel(settings.model, fit, data.scale, backend, resume?.offset);
  if (resume) {
    if (resume.params.length !== model.network.params.length)
      throw new Error("the checkpoint's parameters do not fit this model");
    model.network.params.set(resume.params);
  } else model.network.initialize(seed);
  const result = trainAutoencoder(model, settings.train, { validation, onEpoch, resume: resume?.state });
  if (!validation) return { model, result, fit };
  const validationPredictions = model.predict(validation);
  if (settings.refit) {
    // The validation ratings chose the epoch count; now train again on every training rating for as long.
    const full = new AutoencoderModel(settings.model, data.train, data.scale, backend);
    full.network.initialize(seed);
    const again = trainAutoencoder(full, { ...settings.train, epochs: result.bestEpoch, patience: 0 });
    return {
      model: full,
      result: { ...result, seconds: result.seconds + again.seconds, refitSeconds: again.seconds },
      fit,
      validation,
      validationPredictions,
    };
  }
  model.useRatings(data.train);
  return { model, result, fit, validation, validationPredictions };
}
