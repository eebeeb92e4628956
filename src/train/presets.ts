import { z } from "zod";
import { autoencoderConfigSchema } from "../model/autoencoder-model.js";
import { lbfgsDefaults } from "./lbfgs.js";
import { trainConfigSchema } from "./train-autoencoder.js";

/** The autoencoder kinds, as `--model` names them. */
export const AUTOENCODER_KINDS = ["sae", "autorec-i", "autorec-u", "deep-ae"] as const;
/** One of AUTOENCODER_KINDS. */
export type AutoencoderKindName = (typeof AUTOENCODER_KINDS)[number];

/** An autoencoder's layers and how to train it. */
export const autoencoderSettingsSchema = z
  .object({
    model: autoencoderConfigSchema,
    train: trainConfigSchema,
    /** Fraction of the training ratings held out for validation (early stopping); 0 = none. */
    validation: z.number().min(0).max(0.5),
    /** After early stopping, train again from scratch on all training ratings for the chosen epoch count. */
    refit: z.boolean(),
  })
  .strict();
/** An autoencoder's layers and how to train it. */
export type ModelSettings = z.infer<typeof autoencoderSettingsSchema>;

const NO_EXTRAS = { l2: 0, inputDropout: 0, codeDropout: 0, refeed: false };

/**
 * The tutorial to the letter: 1682-20-10-20-1682, RMSprop lr 0.01 weight decay 0.5, one user per step in
 * id order, 200 epochs, nn.MSELoss over all movie columns, and gradients never reset (the tutorial never
 * calls optimizer.zero_grad(), so each step applies the sum of every gradient so far). No validation.
 */
export const TUTORIAL_PRESET: ModelSettings = {
  model: {
    orientation: "user",
    hidden: [20, 10, 20],
    activation: "sigmoid",
    outputActivation: "identity",
    inputScaling: "none",
  },
  train: {
    epochs: 200,
    batchSize: 1,
    optimizer: { kind: "rmsprop", lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0.5 },
    resetGradients: false,
    loss: "all-columns",
    ...NO_EXTRAS,
    shuffle: false,
    patience: 0,
    seed: 1,
  },
  validation: 0,
  refit: false,
};

const ADAM = { kind: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } as const;

/** I-AutoRec (Sedhain et al. 2015); U-AutoRec differs in orientation and lambda. */
const AUTOREC_I: ModelSettings = {
  model: {
    orientation: "item",
    hidden: [500],
    activation: "sigmoid",
    outputActivation: "identity",
    inputScaling: "none",
    inputOffset: 15,
  },
  train: {
    epochs: 500,
    batchSize: 32,
    optimizer: lbfgsDefaults(),
    resetGradients: true,
    loss: "observed",
    ...NO_EXTRAS,
    l2: 500,
    shuffle: true,
    patience: 30,
    seed: 1,
  },
  validation: 0.05,
  refit: true,
};

/**
 * Each model's defaults, chosen with `aerec tune` on validation (5% of ML-100K u1's training ratings held
 * out), never on test.
 * - sae: the tutorial's layers trained properly: gradients reset each step, shuffled mini-batches, Adam,
 *   mean squared error over observed ratings, each user's input divided by the square root of his count.
 * - autorec-i / autorec-u: Sedhain et al. 2015, one sigmoid layer of 500, identity output, L2 on the
 *   weights (lambda 500 / 300 of 30-3000 tried), full-batch L-BFGS; autorec-i then trains again on all
 *   training ratings for the epoch count validation chose (refit), which validation also preferred. Their
 *   encoders read each rating offset by 15 / 120 (0-240 tried): validation RMSE 0.9018 against 0.9109 with
 *   the ratings as they are for autorec-i (0.8993 against 0.9060 over three validation splits), 0.9351
 *   against 0.9576 for autorec-u.
 * - deep-ae: Kuchaiev & Ginsburg 2017: SELU layers 256-128-256, dropout 0.5 on the code layer, Adam
 *   lr 0.0003, inputs scaled like the SAE's. Dense re-feeding (--refeed) and a tied decoder (--tied) are
 *   available; on ML-100K validation both did worse (0.950 and 0.967 against 0.942).
 */
export const MODEL_DEFAULTS: Record<AutoencoderKindName, ModelSettings> = {
  sae: {
    model: { ...TUTORIAL_PRESET.model, inputScaling: "inverse-sqrt-count" },
    train: {
      epochs: 300,
      batchSize: 16,
      optimizer: { ...ADAM, lr: 0.003 },
      resetGradients: true,
      loss: "observed",
      ...NO_EXTRAS,
      shuffle: true,
      patience: 30,
      seed: 1,
    },
    validation: 0.05,
    refit: false,
  },
  "autorec-i": AUTOREC_I,
  "autorec-u": {
    model: { ...AUTOREC_I.model, orientation: "user", inputOffset: 120 },
    train: { ...AUTOREC_I.train, l2: 300 },
    validation: 0.05,
    refit: false,
  },
  "deep-ae": {
    model: {
      orientation: "user",
      hidden: [256, 128, 256],
      activation: "selu",
      outputActivation: "identity",
      inputScaling: "inverse-sqrt-count",
    },
    train: {
      epochs: 300,
      batchSize: 32,
      optimizer: { ...ADAM, lr: 0.0003 },
      resetGradients: true,
      loss: "observed",
      ...NO_EXTRAS,
      codeDropout: 0.5,
      shuffle: true,
      patience: 30,
      seed: 1,
    },
    validation: 0.05,
    refit: false,
  },
};
