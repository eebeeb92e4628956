import { type Command, Option } from "commander";
import { type RatingScale, STAR_SCALE } from "../data/datasets.js";
import { ACTIVATIONS } from "../kernels/index.js";
import { defaultsOn, OVERRIDE_FIELDS, type SettingOverrides } from "../model/model.js";
import {
  AUTOENCODER_KINDS,
  type AutoencoderKindName,
  type ModelSettings,
  TUTORIAL_PRESET,
} from "../train/presets.js";
import { checkSettings, MODEL_KINDS, modelKind } from "../train/registry.js";
import { intArg, intListArg, numberArg } from "./options.js";

/** Flags that change a model's settings; shared by train and tune. */
export interface SettingFlags extends SettingOverrides {
  model: string;
  preset?: string;
  seed: number;
}

/**
 * The model's defaults on `scale` (or the tutorial preset) with the command-line overrides applied, checked against
 * the kind's schema. A flag the kind does not take is an error that names it.
 */
export function settingsFrom(flags: SettingFlags, scale: RatingScale = STAR_SCALE): unknown {
  const kind = modelKind(flags.model);
  if (flags.preset !== undefined && flags.preset !== "tutorial") {
    throw new Error(`unknown preset "${flags.preset}": the only preset is "tutorial" (with --model sae)`);
  }
  if (flags.preset === "tutorial" && flags.model !== "sae")
    throw new Error("--preset tutorial goes with --model sae");
  const { model: _model, preset, ...overrides } = flags;
  const base = preset === "tutorial" ? TUTORIAL_PRESET : defaultsOn(kind, scale);
  const known = Object.fromEntries(
    Object.entries(overrides).filter(([key]) => OVERRIDE_FIELDS.includes(key as keyof SettingOverrides)),
  );
  let settings: unknown;
  try {
    settings = kind.override(known, base);
  } catch (e) {
    throw new Error(asFlags((e as Error).message));
  }
  return checkSettings(flags.model, settings);
}

/** One line describing a model's settings. */
export function describeSettings(
  kind: string,
  settings: unknown,
  data: { userIds: { size: number }; itemIds: { size: number } },
): string {
  if (!AUTOENCODER_KINDS.includes(kind as AutoencoderKindName))
    return `model ${kind} ${JSON.stringify(settings)}`;
  const { model, train } = settings as ModelSettings;
  const nInputs = model.orientation === "user" ? data.itemIds.size : data.userIds.size;
  const opt = train.optimizer;
  return (
    `model ${kind} ${model.orientation}-based ${[nInputs, ...model.hidden, nInputs].join("-")} ${model.activation}, ` +
    `${opt.kind} lr ${opt.lr}${"weightDecay" in opt && opt.weightDecay ? ` weight decay ${opt.weightDecay}` : ""}` +
    `${train.l2 ? ` lambda ${train.l2}` : ""}${opt.kind === "lbfgs" ? " (full batch)" : `, batch ${train.batchSize}`}` +
    `${train.codeDropout ? `, code dropout ${train.codeDropout}` : ""}` +
    `${train.inputDropout ? `, input dropout ${train.inputDropout}` : ""}${train.refeed ? ", dense re-feeding" : ""}` +
    `${model.inputScaling !== "none" ? `, inputs ${model.inputScaling}` : ""}` +
    `${model.inputOffset ? `, input offset ${model.inputOffset}` : ""}` +
    `${train.resetGradients ? "" : ", gradients accumulated (the tutorial's)"}`
  );
}

/** A kind's message with the settings it names spelled as flags (inputOffset -> --input-offset). */
function asFlags(message: string): string {
  const names = new RegExp(`\\b(${OVERRIDE_FIELDS.join("|")})\\b`, "g");
  return message.replace(names, (name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
}

/** The flags that set a model's settings, shared by train and tune. */
export function addSettingOptions(command: Command): Command {
  return command
    .option("--model <model>", MODEL_KINDS.join(", "), "sae")
    .option(
      "--preset <preset>",
      'reproduce a published setup: "tutorial" (the PyTorch tutorial, quirks included)',
    )
    .option("--epochs <n>", "maximum number of epochs (L-BFGS: iterations)", intArg(1))
    .option(
      "--seed <n>",
      "seed of the initialisation, shuffling, validation split and random splits",
      intArg(0),
      1,
    )
    .option(
      "--hidden <sizes>",
      "hidden layer sizes, e.g. 500 or 20,10,20 (mf: its factors; mult-*: the encoder's, code last, e.g. 600,200)",
      intListArg,
    )
    .option("--members <list>", "blend: the models it combines, e.g. autorec-i,mf", (t) => t.split(","))
    .option(
      "--positive-from <rating>",
      "top-N models: a training rating at least this is a positive (0: every rating)",
      numberArg(0),
    )
    .addOption(new Option("--activation <f>", "hidden activation").choices(Object.keys(ACTIVATIONS)))
    .addOption(
      new Option(
        "--optimizer <kind>",
        "PyTorch's semantics; lbfgs is full batch with the strong Wolfe search",
      ).choices(["adam", "rmsprop", "sgd", "lbfgs"]),
    )
    .option("--lr <rate>", "learning rate (L-BFGS: step scale)", numberArg(0))
    .option(
      "--lambda <l2>",
      "L2 penalty: AutoRec's on the weight matrices, mf's, EASE's (then not searched)",
      numberArg(0),
    )
    .option("--weight-decay <l2>", "optimizer weight decay added to every gradient (PyTorch's)", numberArg(0))
    .option("--batch-size <n>", "rows (users or movies) per optimizer step", intArg(1))
    .option("--dropout <p>", "dropout on the code layer while training", numberArg(0, 0.95))
    .option(
      "--input-dropout <p>",
      "hide this fraction of each row's input ratings while training",
      numberArg(0, 0.95),
    )
    .addOption(
      new Option(
        "--input-scaling <kind>",
        "inverse-sqrt-count divides each input row by the root of its count",
      ).choices(["none", "inverse-sqrt-count"]),
    )
    .option(
      "--input-offset <c>",
      'added to every rating the encoder reads, so that "rated" counts apart from the rating (0: none)',
      numberArg(0),
    )
    .option("--tied", "constrained decoder: each decoder layer is the transpose of its mirror encoder layer")
    .option("--refeed", "dense re-feeding: a second step on each batch's own reconstruction")
    .option("--refit", "after early stopping, train again on all training ratings for the chosen epochs")
    .option("--no-refit", "keep the early-stopped model")
    .option(
      "--runs <n>",
      "glocal-k, kernel-net: average this many fits, each from its own seed (about n times the time)",
      intArg(1, 16),
    )
    .option(
      "--validation <fraction>",
      "fraction of the training ratings held out for early stopping",
      numberArg(0, 0.5),
    )
    .option(
      "--patience <n>",
      "stop after this many epochs without a better validation RMSE (0: never)",
      intArg(0),
    );
}
