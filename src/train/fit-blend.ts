import type { LoadedData } from "../data/load.js";
import { validationSplit } from "../data/splits.js";
import { ratingMetrics } from "../eval/metrics.js";
import type { Backend } from "../kernels/index.js";
import { BASELINES, type BaselineKind, fitBaseline } from "../model/baselines.js";
import { Blend, blendWeights, crossValidatedBlendRmse } from "../model/blend.js";
import { fitModel } from "./fit.js";
import { MODEL_DEFAULTS, MODEL_KINDS, type ModelKind } from "./presets.js";

/** A model a blend can hold: an autoencoder with its defaults, or a baseline. */
export type BlendMemberKind = ModelKind | BaselineKind;
/** Every model a blend can hold. */
export const BLEND_MEMBER_KINDS: readonly BlendMemberKind[] = [...MODEL_KINDS, ...BASELINES];

/**
 * The models the blend combines by default: of every set of autorec-i, autorec-u, deep-ae, sae, mf and bias,
 * the one with the lowest cross-validated validation RMSE (see crossValidatedBlendRmse), averaged over the
 * validation ratings of ML-100K u1, u2 and u3.
 */
export const BLEND_MEMBERS: readonly BlendMemberKind[] = ["autorec-i", "autorec-u", "deep-ae"];

/** Fraction of the training ratings that every member holds out, and on which the weights are fit. */
export const BLEND_VALIDATION = 0.05;

/** A fitted blend with what its validation ratings said. */
export interface BlendOutcome {
  blend: Blend;
  /**
   * Per member: validation RMSE (of the member trained without those ratings), and seconds to fit it as
   * kept (an autoencoder's whole fitModel; a baseline's fit on every training rating).
   */
  members: { name: BlendMemberKind; validationRmse: number; seconds: number }[];
  /** The blend's validation RMSE, each fold's weights fit on the other folds (see crossValidatedBlendRmse). */
  validationRmse: number;
}

/**
 * Fits a blend on data.train: holds out BLEND_VALIDATION of the training ratings; trains each member
 * without them (autoencoders early-stop on them) and records its predictions for them; fits the blend's
 * weights to those predictions; and keeps each member as trained on every training rating (autoencoders as
 * fitModel leaves them, baselines fitted again). The test ratings are not touched.
 */
export function fitBlend(
  data: LoadedData,
  backend: Backend,
  options: {
    members?: readonly BlendMemberKind[];
    seed?: number;
    onMember?: (name: BlendMemberKind) => void;
  } = {},
): BlendOutcome {
  const { members = BLEND_MEMBERS, seed = 1 } = options;
  if (members.length === 0) throw new Error("a blend needs at least one model");
  // fitModel draws the same split from the same fraction and seed, so all members share these ratings.
  const { fit, validation } = validationSplit(data.train, BLEND_VALIDATION, seed);
  const fitted = members.map((name) => {
    options.onMember?.(name);
    if (!(MODEL_KINDS as readonly string[]).includes(name)) {
      const predictions = fitBaseline(name as BaselineKind, fit, data.scale).predict(validation);
      const started = performance.now();
      const predictor = fitBaseline(name as BaselineKind, data.train, data.scale);
      return { name, predictor, predictions, seconds: (performance.now() - started) / 1000 };
    }
    const started = performance.now();
    const settings = MODEL_DEFAULTS[name as ModelKind];
    const train = { ...settings.train, seed };
    const outcome = fitModel(data, { ...settings, validation: BLEND_VALIDATION, train }, backend);
    const predictions = outcome.validationPredictions as Float32Array;
    return { name, predictor: outcome.model, predictions, seconds: (performance.now() - started) / 1000 };
  });
  const predictions = fitted.map((f) => f.predictions);
  const weights = blendWeights(predictions, validation.values);
  return {
    blend: new Blend(
      fitted.map(({ name, predictor }) => ({ name, predictor })),
      weights,
      data.scale,
    ),
    members: fitted.map((f) => ({
      name: f.name,
      validationRmse: ratingMetrics(f.predictions, validation.values).rmse,
      seconds: f.seconds,
    })),
    validationRmse: crossValidatedBlendRmse(predictions, validation.values, data.scale),
  };
}
