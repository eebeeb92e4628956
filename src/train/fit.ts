import type { Ratings } from "../data/ratings.js";
import { validationSplit } from "../data/splits.js";
import type { Backend } from "../kernels/index.js";
import { AutoencoderModel } from "../model/autoencoder-model.js";
import { type EpochReport, type FitOutcome, predict, type TrainingSet } from "../model/model.js";
import type { ModelSettings } from "./presets.js";
import { type TrainingState, trainAutoencoder } from "./train-autoencoder.js";

/** Where a first-order training run stopped: its state and the last epoch's parameters. */
export interface Checkpoint {
  state: TrainingState;
  params: Float32Array;
}

/**
 * Trains an autoencoder of `kind`: holds out `settings.validation` of the training ratings and trains on the
 * rest with early stopping on the held-out part. Then, with `settings.refit`, trains a fresh model on every
 * training rating for the epoch count validation chose; otherwise lets the early-stopped model read every
 * training rating as input. The fold-in ridge is the L2 penalty's half (at least 1). The test ratings are not
 * touched.
 */
export function fitAutoencoder(
  kind: string,
  data: TrainingSet,
  settings: ModelSettings,
  backend: Backend,
  onEpoch?: (report: EpochReport) => void,
  resume?: Checkpoint,
): FitOutcome<AutoencoderModel> & { checkpoint?: Checkpoint } {
  const seed = settings.train.seed;
  const { fit, validation }: { fit: Ratings; validation?: Ratings } =
    settings.validation > 0
      ? validationSplit(data.train, settings.validation, seed)
      : { fit: data.train, validation: undefined };
  if (resume && settings.refit) throw new Error("a model trained with --refit cannot be resumed");
  const ridge = Math.max(1, settings.train.l2 / 2);
  const create = (train: Ratings) =>
    new AutoencoderModel(kind, settings.model, train, data.scale, backend, ridge);
  const model = create(fit);
  if (resume) {
    if (resume.params.length !== model.network.params.length)
      throw new Error("the checkpoint's parameters do not fit this model");
    model.network.params.set(resume.params);
  } else model.network.initialize(seed);
  const result = trainAutoencoder(model, settings.train, { validation, onEpoch, resume: resume?.state });
  const { state, lastParams, ...trained } = result;
  const checkpoint = state && lastParams && !settings.refit ? { state, params: lastParams } : undefined;
  const outcome = { ...trained, fit, validation, checkpoint };
  if (!validation) return { ...outcome, model };
  const validationPredictions = predict(model, validation);
  if (settings.refit) {
    // The validation ratings chose the epoch count; now train again on every training rating for as long.
    const full = create(data.train);
    full.network.initialize(seed);
    const again = trainAutoencoder(
      full,
      { ...settings.train, epochs: result.bestEpoch, patience: 0 },
      { onEpoch: onEpoch && ((report) => onEpoch({ ...report, phase: "refit" })) },
    );
    return {
      ...outcome,
      model: full,
      seconds: result.seconds + again.seconds,
      refitSeconds: again.seconds,
      validationPredictions,
    };
  }
  model.useRatings(data.train);
  return { ...outcome, model, validationPredictions };
}
