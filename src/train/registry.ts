import type { RatingScale } from "../data/datasets.js";
import type { Backend } from "../kernels/index.js";
import { biasKind } from "../model/bias.js";
import { easeKind } from "../model/ease.js";
import { globalMeanKind } from "../model/global-mean.js";
import { matrixFactorizationKind } from "../model/matrix-factorization.js";
import {
  defaultsOn,
  type EpochReport,
  type FitOutcome,
  type ModelKind,
  type TrainingSet,
} from "../model/model.js";
import { autorecItemKind, autorecUserKind, deepAutoencoderKind, saeKind } from "./autoencoder-kinds.js";
import { blendKind } from "./fit-blend.js";
import { glocalKKind, kernelNetKind } from "./glocal-k-kind.js";
import { multDaeKind, multVaeKind } from "./mult-vae-kind.js";

/**
 * Every kind of model aerec trains, in the order people see them. The CLI's --model choices, evaluate,
 * the blend, tune, model files, info, the service and the README's model table all read this list: a new
 * kind is one file and one line here.
 */
export const MODEL_REGISTRY: readonly ModelKind<any>[] = [
  saeKind,
  autorecItemKind,
  autorecUserKind,
  deepAutoencoderKind,
  glocalKKind,
  kernelNetKind,
  easeKind,
  multDaeKind,
  multVaeKind,
  matrixFactorizationKind,
  biasKind,
  globalMeanKind,
  blendKind,
];

/** Every registered kind's name. */
export const MODEL_KINDS: readonly string[] = MODEL_REGISTRY.map((k) => k.name);

/** The kind called `name`; throws with the list of kinds when there is none. */
export function modelKind(name: string): ModelKind<unknown> {
  const kind = MODEL_REGISTRY.find((k) => k.name === name);
  if (!kind) throw new Error(`unknown model "${name}": choose one of ${MODEL_KINDS.join(", ")}`);
  return kind;
}

/**
 * Settings of kind `name`, checked against its zod schema: the one door through which settings from
 * outside (flags, files, library callers) reach a fit. A failure names the field.
 */
export function checkSettings(name: string, settings: unknown): unknown {
  const parsed = modelKind(name).settingsSchema.safeParse(settings);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${name} settings: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return parsed.data;
}

/** The defaults of kind `name` on `scale` (its rating thresholds moved there) with `seed`. */
export function defaultSettings(name: string, scale: RatingScale, seed?: number): unknown {
  const kind = modelKind(name);
  return kind.override({ seed }, defaultsOn(kind, scale));
}

/**
 * Fits a model of kind `name` on `data.train` with `settings` (checked by the kind's schema), or with its
 * defaults and `seed`. The test ratings are never read. `onEpoch` hears every epoch of every run the fit
 * makes, with the run's epoch budget (`epochs`) and, after the first run, its `phase` ("refit", or the
 * trial's setting), so that a caller can show progress all the way through.
 */
export function fitModel(
  name: string,
  data: TrainingSet,
  options: {
    backend: Backend;
    settings?: unknown;
    seed?: number;
    onEpoch?: (report: EpochReport) => void;
    resume?: unknown;
  },
): FitOutcome {
  const kind = modelKind(name);
  if (data.implicit && kind.family === "rating") {
    throw new Error(
      `${name} predicts ratings, and these data have none (implicit feedback: every line a positive): ` +
        `choose a top-N model (${MODEL_REGISTRY.filter((k) => k.family === "top-n")
          .map((k) => k.name)
          .join(", ")})`,
    );
  }
  const settings = checkSettings(name, options.settings ?? defaultSettings(name, data.scale, options.seed));
  return kind.fit(data, settings, { ...options, kinds: modelKind });
}
