import { ACTIVATIONS, type Activation } from "../kernels/index.js";
import { AutoencoderModel, type InputScaling, savedAutoencoderSchema } from "../model/autoencoder-model.js";
import { type ModelKind, OVERRIDE_FIELDS, type SettingOverrides, unsupported } from "../model/model.js";
import { type Checkpoint, fitAutoencoder } from "./fit.js";
import { lbfgsDefaults } from "./lbfgs.js";
import { type OptimizerConfig, optimizerDefaults } from "./optimizers.js";
import {
  type AutoencoderKindName,
  autoencoderSettingsSchema,
  MODEL_DEFAULTS,
  type ModelSettings,
} from "./presets.js";

/** The overrides every autoencoder takes: all but the blend's members and the top-N models' positives. */
const AUTOENCODER_OVERRIDES = OVERRIDE_FIELDS.filter((f) => f !== "members" && f !== "positiveFrom");

const OPTIMIZERS = ["adam", "rmsprop", "sgd", "lbfgs"] as const;

/** The optimizer `o` asks for: the base's with a new learning rate, or another kind with its defaults. */
function optimizerFrom(o: SettingOverrides, base: ModelSettings["train"]["optimizer"]) {
  const kind = o.optimizer ?? base.kind;
  if (!(OPTIMIZERS as readonly string[]).includes(kind))
    throw new Error(`optimizer: unknown optimizer "${kind}"; choose one of ${OPTIMIZERS.join(", ")}`);
  const lr = o.lr ?? (kind === base.kind ? base.lr : kind === "lbfgs" ? 1 : 0.001);
  const optimizer =
    kind === base.kind
      ? { ...base, lr }
      : kind === "lbfgs"
        ? lbfgsDefaults(lr)
        : optimizerDefaults(
            kind as OptimizerConfig["kind"],
            lr,
            "weightDecay" in base ? base.weightDecay : 0,
          );
  if (o.weightDecay !== undefined) {
    if (optimizer.kind === "lbfgs") throw new Error("weightDecay does not apply to lbfgs: use lambda");
    optimizer.weightDecay = o.weightDecay;
  }
  return optimizer;
}

/** `base` with the overrides applied (the kind's schema validates the result). */
export function overrideAutoencoder(o: SettingOverrides, base: ModelSettings): ModelSettings {
  if (o.inputScaling !== undefined && !["none", "inverse-sqrt-count"].includes(o.inputScaling)) {
    throw new Error(
      `inputScaling: unknown input scaling "${o.inputScaling}"; choose none or inverse-sqrt-count`,
    );
  }
  if (o.activation !== undefined && !(o.activation in ACTIVATIONS)) {
    throw new Error(
      `activation: unknown activation "${o.activation}"; choose one of ${Object.keys(ACTIVATIONS).join(", ")}`,
    );
  }
  return {
    model: {
      ...base.model,
      hidden: o.hidden ?? base.model.hidden,
      activation: (o.activation as Activation | undefined) ?? base.model.activation,
      tied: o.tied ?? base.model.tied,
      inputScaling: (o.inputScaling as InputScaling | undefined) ?? base.model.inputScaling,
      inputOffset: o.inputOffset ?? base.model.inputOffset,
    },
    validation: o.validation ?? base.validation,
    refit: o.refit ?? base.refit,
    train: {
      ...base.train,
      optimizer: optimizerFrom(o, base.train.optimizer),
      seed: o.seed ?? base.train.seed,
      epochs: o.epochs ?? base.train.epochs,
      batchSize: o.batchSize ?? base.train.batchSize,
      patience: o.patience ?? base.train.patience,
      l2: o.lambda ?? base.train.l2,
      codeDropout: o.dropout ?? base.train.codeDropout,
      inputDropout: o.inputDropout ?? base.train.inputDropout,
      refeed: o.refeed ?? base.train.refeed,
    },
  };
}

/** The registry entry of the autoencoder `name` with its defaults and one-line summary. */
function autoencoderKind(
  name: AutoencoderKindName,
  summary: string,
): ModelKind<ModelSettings, AutoencoderModel> {
  return {
    name,
    summary,
    family: "rating",
    settingsSchema: autoencoderSettingsSchema,
    defaults: MODEL_DEFAULTS[name],
    configSchema: savedAutoencoderSchema,
    override(o, base = MODEL_DEFAULTS[name]) {
      unsupported(name, o, AUTOENCODER_OVERRIDES);
      return overrideAutoencoder(o, base);
    },
    fit(data, settings, context) {
      return fitAutoencoder(
        name,
        data,
        settings,
        context.backend,
        context.onEpoch,
        context.resume as Checkpoint | undefined,
      );
    },
    load(saved, { train, scale, backend }) {
      return AutoencoderModel.load(name, saved, train, scale, backend);
    },
  };
}

/** The tutorial's stacked autoencoder, trained properly. */
export const saeKind = autoencoderKind(
  "sae",
  "the tutorial's stacked autoencoder over users' ratings, 20-10-20 sigmoid, Adam on mini-batches of 16",
);
/** I-AutoRec. */
export const autorecItemKind = autoencoderKind(
  "autorec-i",
  "I-AutoRec (Sedhain et al. 2015): each movie's ratings, 500 sigmoid, full-batch L-BFGS, then refit",
);
/** U-AutoRec. */
export const autorecUserKind = autoencoderKind(
  "autorec-u",
  "U-AutoRec: each user's ratings, 500 sigmoid, identity output, full-batch L-BFGS",
);
/** The deep autoencoder of Kuchaiev & Ginsburg. */
export const deepAutoencoderKind = autoencoderKind(
  "deep-ae",
  "a deep autoencoder (Kuchaiev & Ginsburg 2017): 256-128-256 SELU, dropout 0.5 on the code, Adam",
);
