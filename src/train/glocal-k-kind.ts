import { z } from "zod";
import { AutoencoderModel, savedAutoencoderSchema } from "../model/autoencoder-model.js";
import { blendConfigSchema, loadBlend } from "../model/blend.js";
import { type Model, type ModelKind, type SettingOverrides, unsupported } from "../model/model.js";
import { fitGlocal, type GlocalSettings, glocalSettingsSchema } from "./glocal-k.js";

/**
 * GLocal-K's settings for ML-100K from the authors' code (Han et al., CIKM 2021): two layers of 500,
 * kernel embeddings of 5, lambda_2 20, lambda_s 0.006, 30 pre-training and 60 fine-tuning epochs of 5
 * L-BFGS iterations, dot scale 1. The epoch is chosen on 5% of the training ratings, then the model is
 * trained again on all of them for as many epochs: on ML-100K u1 that took the test RMSE of three seeds
 * from 0.8974-0.9125 (the early-stopped model reading every training rating) to 0.8930-0.8965.
 */
const GLOCAL_DEFAULTS: GlocalSettings = {
  hidden: [500, 500],
  kernelDims: 5,
  lambda: 20,
  lambdaSparse: 0.006,
  pretrainEpochs: 30,
  finetuneEpochs: 60,
  iterations: 5,
  firstStep: "l1",
  dotScale: 1,
  validation: 0.05,
  patience: 0,
  refit: true,
  runs: 1,
  seed: 1,
};

/** kernelNet (Muller et al., ICML 2018): GLocal-K's local stage alone, trained for as long as both stages. */
const KERNEL_NET_DEFAULTS: GlocalSettings = { ...GLOCAL_DEFAULTS, pretrainEpochs: 90, finetuneEpochs: 0 };

const GLOCAL_OVERRIDES = ["epochs", "hidden", "lambda", "validation", "patience", "refit", "runs"] as const;

/** One fit's network, or the average of several (settings.runs). */
const configSchema = z.union([savedAutoencoderSchema, blendConfigSchema]);

/** A registry entry over fitGlocal; `epochs` sets the fine-tuning epochs of glocal-k, the epochs of kernel-net. */
function kernelKind(
  name: string,
  summary: string,
  defaults: GlocalSettings,
): ModelKind<GlocalSettings, Model> {
  const epochsField = defaults.finetuneEpochs > 0 ? "finetuneEpochs" : "pretrainEpochs";
  return {
    name,
    summary,
    family: "rating",
    settingsSchema: glocalSettingsSchema,
    defaults,
    configSchema,
    override(o: SettingOverrides, base = defaults) {
      unsupported(name, o, GLOCAL_OVERRIDES);
      return {
        ...base,
        hidden: o.hidden ?? base.hidden,
        lambda: o.lambda ?? base.lambda,
        validation: o.validation ?? base.validation,
        patience: o.patience ?? base.patience,
        refit: o.refit ?? base.refit,
        runs: o.runs ?? base.runs,
        seed: o.seed ?? base.seed,
        [epochsField]: o.epochs ?? base[epochsField],
      };
    },
    fit(data, settings, context) {
      return fitGlocal(name, data, settings, context.backend, context.onEpoch);
    },
    load(saved, context) {
      if (blendConfigSchema.safeParse(saved.config).success) return loadBlend(saved, context, name);
      return AutoencoderModel.load(name, saved, context.train, context.scale, context.backend);
    },
  };
}

/** GLocal-K. */
export const glocalKKind = kernelKind(
  "glocal-k",
  "GLocal-K (Han et al. 2021): kernel-net fine-tuned on ratings smoothed by a learned 3x3 kernel, then refit",
  GLOCAL_DEFAULTS,
);
/** kernelNet. */
export const kernelNetKind = kernelKind(
  "kernel-net",
  "kernelNet (Muller et al. 2018): item-based 500-500 sigmoid, weights sparsified by local kernels",
  KERNEL_NET_DEFAULTS,
);
