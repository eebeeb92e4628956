import { z } from "zod";
import type { Ratings } from "../data/ratings.js";
import { validationSplit } from "../data/splits.js";
import {
  Blend,
  blendConfigSchema,
  blendWeights,
  crossValidatedBlendRmse,
  loadBlend,
} from "../model/blend.js";
import {
  defaultsOn,
  type FitContext,
  type FitOutcome,
  type ModelKind,
  predict,
  type TrainingSet,
  unsupported,
} from "../model/model.js";
import { ratingMetrics } from "../model/rating-metrics.js";

/**
 * The models the blend combines by default: of every set of autorec-i, autorec-u, deep-ae, glocal-k, sae, mf
 * and bias, the smallest whose cross-validated validation RMSE (see crossValidatedBlendRmse), averaged over
 * the validation ratings of ML-100K u1, u2 and u3, is within 0.0005 of the best (bench/blend-members.mjs).
 */
export const BLEND_MEMBERS: readonly string[] = ["autorec-i", "autorec-u", "deep-ae", "glocal-k"];

/** Fraction of the training ratings that every member holds out, and on which the weights are fit. */
export const BLEND_VALIDATION = 0.05;

const settingsSchema = z
  .object({
    members: z.array(z.string()).min(1).max(16),
    seed: z.number().int().min(0),
  })
  .strict();
/** Which models a blend combines, and the seed of its validation split and of its members. */
export type BlendSettings = z.infer<typeof settingsSchema>;

/** A fitted blend with what its validation ratings said. */
export interface BlendOutcome extends FitOutcome<Blend> {
  /**
   * Per member: validation RMSE (of the member trained without those ratings), and seconds to fit it as
   * kept.
   */
  members: {
    name: string;
    validationRmse: number;
    seconds: number;
    outcome: FitOutcome;
    /** Its predictions for the validation ratings, in their order. */
    validationPredictions: ArrayLike<number>;
  }[];
  /** The blend's validation RMSE, each fold's weights fit on the other folds (see crossValidatedBlendRmse). */
  validationRmse: number;
}

/** True when two ratings sets hold the same (user, item) pairs in the same order. */
function samePairs(a: Ratings, b: Ratings): boolean {
  if (a.size !== b.size) return false;
  for (let k = 0; k < a.size; k++) if (a.users[k] !== b.users[k] || a.items[k] !== b.items[k]) return false;
  return true;
}

/**
 * Fits a blend on data.train: holds out BLEND_VALIDATION of the training ratings; trains each member
 * without them (autoencoders early-stop on them, drawing the same split) and records its predictions for
 * them; fits the blend's weights to those predictions; and keeps each member as trained on every training
 * rating (kinds that do not hold out these ratings themselves are fitted again on all of them). The test
 * ratings are not touched.
 */
export function fitBlend(
  data: TrainingSet,
  settings: BlendSettings,
  context: FitContext & { onMember?: (name: string) => void },
): BlendOutcome {
  const started = performance.now();
  const kinds = context.kinds;
  if (!kinds) throw new Error("a blend needs the model registry to fit its members");
  const { fit, validation } = validationSplit(data.train, BLEND_VALIDATION, settings.seed);
  const fitted = settings.members.map((name) => {
    context.onMember?.(name);
    const kind = kinds(name);
    if (kind.name === "blend") throw new Error("members: a blend cannot hold a blend");
    const memberSettings = kind.override({ seed: settings.seed }, defaultsOn(kind, data.scale));
    const memberStarted = performance.now();
    const outcome = kind.fit(data, memberSettings, { ...context, onEpoch: undefined });
    if (outcome.validation && outcome.validationPredictions && samePairs(outcome.validation, validation)) {
      return {
        name,
        outcome,
        predictions: outcome.validationPredictions,
        seconds: (performance.now() - memberStarted) / 1000,
      };
    }
    const partial = kind.fit({ ...data, train: fit }, memberSettings, { ...context, onEpoch: undefined });
    return {
      name,
      outcome,
      predictions: predict(partial.model, validation),
      seconds: outcome.seconds,
    };
  });
  const predictions = fitted.map((f) => f.predictions);
  const weights = blendWeights(predictions, validation.values);
  const model = new Blend(
    fitted.map((f) => f.outcome.model),
    weights,
    data.scale,
  );
  return {
    model,
    history: [],
    bestEpoch: 0,
    seconds: (performance.now() - started) / 1000,
    fit,
    validation,
    members: fitted.map((f) => ({
      name: f.name,
      validationRmse: ratingMetrics(f.predictions, validation.values).rmse,
      seconds: f.seconds,
      outcome: f.outcome,
      validationPredictions: f.predictions,
    })),
    validationRmse: crossValidatedBlendRmse(predictions, validation.values, data.scale),
  };
}

/** The `blend` kind: a least-squares blend of other kinds fit on validation ratings. */
export const blendKind: ModelKind<BlendSettings, Blend> = {
  name: "blend",
  summary:
    "a least-squares blend of other models (default autorec-i, autorec-u, deep-ae, glocal-k) fit on validation",
  family: "rating",
  settingsSchema,
  defaults: { members: [...BLEND_MEMBERS], seed: 1 },
  configSchema: blendConfigSchema,
  override(o, base = { members: [...BLEND_MEMBERS], seed: 1 }) {
    unsupported("blend", o, ["members", "seed"]);
    return { members: o.members ?? base.members, seed: o.seed ?? base.seed };
  },
  fit: fitBlend,
  load: (saved, context) => loadBlend(saved, context),
};
