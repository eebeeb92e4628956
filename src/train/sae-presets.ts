import type { InputScaling } from "../model/sae-model.js";
import type { SaeTrainConfig } from "./train-sae.js";

/** A stacked autoencoder's layers and how to train it. */
export interface SaeSettings {
  hidden: number[];
  /** How the encoder sees a user's ratings (see SaeModel). */
  inputScaling: InputScaling;
  train: SaeTrainConfig;
  /** Fraction of the training ratings held out for validation (early stopping); 0 = none. */
  validation: number;
}

/**
 * The tutorial to the letter: 1682-20-10-20-1682, RMSprop lr 0.01 weight decay 0.5, one user per step in
 * id order, 200 epochs, nn.MSELoss over all movie columns, and gradients never reset (the tutorial never
 * calls optimizer.zero_grad(), so each step applies the sum of every gradient so far). No validation.
 */
export const TUTORIAL_PRESET: SaeSettings = {
  hidden: [20, 10, 20],
  inputScaling: "none",
  train: {
    epochs: 200,
    batchSize: 1,
    optimizer: { kind: "rmsprop", lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0.5 },
    resetGradients: false,
    loss: "all-columns",
    shuffle: false,
    inputDropout: 0,
    patience: 0,
    seed: 1,
  },
  validation: 0,
};

/**
 * The corrected default: the tutorial's layers trained properly (gradients reset each step, shuffled
 * mini-batches, mean squared error over observed ratings, Adam, each user's input divided by the square root
 * of his rating count), with early stopping on a validation part of the training ratings. The values were
 * chosen on validation (ML-100K u1, 5% of the training ratings held out, seeds 1-3), never on test.
 */
export const SAE_DEFAULT: SaeSettings = {
  hidden: [20, 10, 20],
  inputScaling: "inverse-sqrt-count",
  train: {
    epochs: 300,
    batchSize: 16,
    optimizer: { kind: "adam", lr: 0.003, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    resetGradients: true,
    loss: "observed",
    shuffle: true,
    inputDropout: 0,
    patience: 30,
    seed: 1,
  },
  validation: 0.05,
};
