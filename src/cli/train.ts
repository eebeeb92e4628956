import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { DATASET_NAMES, datasetInfo } from "../data/datasets.js";
import { DataNotFoundError } from "../data/errors.js";
import { type LoadedData, loadData } from "../data/load.js";
import { lineChart } from "../eval/charts.js";
import { ratingMetrics, tutorialLoss } from "../eval/metrics.js";
import { chartBytes } from "../eval/png.js";
import { ACTIVATIONS, type Activation, createBackend, type KernelChoice } from "../kernels/index.js";
import type { AutoencoderModel, InputScaling } from "../model/autoencoder-model.js";
import { Recommender } from "../model/recommender.js";
import { loadModel, saveModel } from "../store/model-file.js";
import { type Checkpoint, fitModel } from "../train/fit.js";
import { lbfgsDefaults } from "../train/lbfgs.js";
import { optimizerDefaults } from "../train/optimizers.js";
import {
  MODEL_DEFAULTS,
  MODEL_KINDS,
  type ModelKind,
  type ModelSettings,
  TUTORIAL_PRESET,
} from "../train/presets.js";
import { ProgressBar } from "../train/progress.js";
import { downloadWithProgress } from "./download.js";
import { intArg, intListArg, numberArg } from "./options.js";

/** Flags that change a model's settings; shared by train and tune. */
export interface SettingFlags {
  model: string;
  preset?: string;
  epochs?: number;
  seed: number;
  hidden?: number[];
  activation?: string;
  optimizer?: "adam" | "rmsprop" | "sgd" | "lbfgs";
  lr?: number;
  lambda?: number;
  weightDecay?: number;
  batchSize?: number;
  dropout?: number;
  inputDropout?: number;
  validation?: number;
  patience?: number;
  centered?: boolean;
  refit?: boolean;
  inputScaling?: string;
  inputOffset?: number;
  refeed?: boolean;
  tied?: boolean;
}

interface TrainFlags extends SettingFlags {
  dataset: string;
  split?: string;
  threads: number;
  kernels: KernelChoice;
  save?: string;
  json?: boolean;
  dataDir?: string;
  show?: number;
  plot?: string;
  resume?: string;
  download: boolean;
}

/** Loads data; a GroupLens data set that is nowhere to be found is downloaded into the cache first. */
export async function loadOrDownload(
  flags: { dataset: string; split?: string; seed: number; dataDir?: string; download: boolean },
  log: (s: string) => void,
): Promise<LoadedData> {
  const options = { dataDir: flags.dataDir, split: flags.split, seed: flags.seed };
  try {
    return await loadData(flags.dataset, options);
  } catch (e) {
    if (!(e instanceof DataNotFoundError) || !flags.download || flags.dataDir || process.env.MOVIELENS_DIR)
      throw e;
    datasetInfo(flags.dataset);
    log(`${flags.dataset} is not on this machine yet: downloading it from GroupLens.\n`);
    await downloadWithProgress(flags.dataset);
    return loadData(flags.dataset, options);
  }
}

/** The model's defaults (or the tutorial preset) with the command-line overrides applied. */
export function settingsFrom(flags: SettingFlags): ModelSettings {
  if (!(MODEL_KINDS as readonly string[]).includes(flags.model)) {
    throw new Error(`unknown model "${flags.model}": choose one of ${MODEL_KINDS.join(", ")}`);
  }
  if (flags.preset !== undefined && flags.preset !== "tutorial") {
    throw new Error(`unknown preset "${flags.preset}": the only preset is "tutorial" (with --model sae)`);
  }
  if (flags.preset === "tutorial" && flags.model !== "sae")
    throw new Error("--preset tutorial goes with --model sae");
  if (flags.inputScaling !== undefined && !["none", "inverse-sqrt-count"].includes(flags.inputScaling)) {
    throw new Error(`unknown input scaling "${flags.inputScaling}": choose none or inverse-sqrt-count`);
  }
  if (flags.inputOffset !== undefined && !(flags.inputOffset >= 0))
    throw new Error(`input offset ${flags.inputOffset}: it must be a number from 0 up`);
  if (flags.activation !== undefined && !(flags.activation in ACTIVATIONS)) {
    throw new Error(
      `unknown activation "${flags.activation}": choose one of ${Object.keys(ACTIVATIONS).join(", ")}`,
    );
  }
  const base = flags.preset === "tutorial" ? TUTORIAL_PRESET : MODEL_DEFAULTS[flags.model as ModelKind];
  const baseOptimizer = base.train.optimizer;
  const kind = flags.optimizer ?? baseOptimizer.kind;
  const lr = flags.lr ?? (kind === baseOptimizer.kind ? baseOptimizer.lr : kind === "lbfgs" ? 1 : 0.001);
  const optimizer =
    kind === baseOptimizer.kind
      ? { ...baseOptimizer, lr }
      : kind === "lbfgs"
        ? lbfgsDefaults(lr)
        : optimizerDefaults(kind, lr, "weightDecay" in baseOptimizer ? baseOptimizer.weightDecay : 0);
  if (flags.weightDecay !== undefined) {
    if (optimizer.kind === "lbfgs") throw new Error("--weight-decay does not apply to lbfgs: use --lambda");
    optimizer.weightDecay = flags.weightDecay;
  }
  return {
    model: {
      ...base.model,
      hidden: flags.hidden ?? base.model.hidden,
      activation: (flags.activation as Activation | undefined) ?? base.model.activation,
      centered: flags.centered ?? base.model.centered,
      tied: flags.tied ?? base.model.tied,
      inputScaling: (flags.inputScaling as InputScaling | undefined) ?? base.model.inputScaling,
      inputOffset: flags.inputOffset ?? base.model.inputOffset,
    },
    validation: flags.validation ?? base.validation,
    refit: flags.refit ?? base.refit,
    train: {
      ...base.train,
      optimizer,
      seed: flags.seed,
      epochs: flags.epochs ?? base.train.epochs,
      batchSize: flags.batchSize ?? base.train.batchSize,
      patience: flags.patience ?? base.train.patience,
      l2: flags.lambda ?? base.train.l2,
      codeDropout: flags.dropout ?? base.train.codeDropout,
      inputDropout: flags.inputDropout ?? base.train.inputDropout,
      refeed: flags.refeed ?? base.train.refeed,
    },
  };
}

/** One line describing a model's settings. */
export function describeSettings(kind: string, settings: ModelSettings, nInputs: number): string {
  const { model, train } = settings;
  const opt = train.optimizer;
  return (
    `model ${kind} ${model.orientation}-based ${[nInputs, ...model.hidden, nInputs].join("-")} ${model.activation}, ` +
    `${opt.kind} lr ${opt.lr}${"weightDecay" in opt && opt.weightDecay ? ` weight decay ${opt.weightDecay}` : ""}` +
    `${train.l2 ? ` lambda ${train.l2}` : ""}${opt.kind === "lbfgs" ? " (full batch)" : `, batch ${train.batchSize}`}` +
    `${train.codeDropout ? `, code dropout ${train.codeDropout}` : ""}` +
    `${train.inputDropout ? `, input dropout ${train.inputDropout}` : ""}${train.refeed ? ", dense re-feeding" : ""}` +
    `${model.inputScaling !== "none" ? `, inputs ${model.inputScaling}` : ""}` +
    `${model.inputOffset ? `, input offset ${model.inputOffset}` : ""}${model.centered ? ", centred" : ""}` +
    `${train.resetGradients ? "" : ", gradients accumulated (the tutorial's)"}`
  );
}

/** The settings, data and state saved in a file by `aerec train --save`, to continue training from. */
async function resumeFrom(flags: TrainFlags): Promise<{ settings: ModelSettings; checkpoint: Checkpoint }> {
  const file = flags.resume!;
  const { header, checkpoint } = await loadModel(file, createBackend("reference"));
  if (!checkpoint) {
    throw new Error(
      `${file} holds no training state to resume: train with adam, rmsprop or sgd and without --refit, then --save`,
    );
  }
  const saved = header.training as unknown as ModelSettings;
  flags.model = header.kind;
  flags.dataset = header.dataset;
  flags.split = header.split;
  flags.seed = saved.train.seed;
  const settings = { ...saved, train: { ...saved.train, epochs: flags.epochs ?? saved.train.epochs } };
  return { settings, checkpoint };
}

async function runTrain(flags: TrainFlags): Promise<void> {
  const say = (s: string) => (flags.json ? process.stderr : process.stdout).write(s);
  const resumed = flags.resume ? await resumeFrom(flags) : undefined;
  const settings = resumed?.settings ?? settingsFrom(flags);
  if (resumed) say(`resuming ${flags.resume} after epoch ${resumed.checkpoint.state.epoch}\n`);
  const started = performance.now();
  const data = await loadOrDownload(flags, say);
  const nHeldOut = Math.round(settings.validation * data.train.size);
  say(
    `${data.dataset} split ${data.split}: ${data.train.size} training ratings` +
      `${nHeldOut ? ` (${nHeldOut} held out for validation)` : ""}, ${data.test.size} test ratings, ` +
      `${data.userIds.size} users, ${data.itemIds.size} movies\n`,
  );
  const backend = createBackend(flags.kernels, flags.threads);
  try {
    const nInputs = settings.model.orientation === "user" ? data.itemIds.size : data.userIds.size;
    say(
      `${describeSettings(flags.model, settings, nInputs)}; kernels ${backend.kernels.name} x${backend.threads} ` +
        `thread${backend.threads > 1 ? "s" : ""}\n`,
    );
    const bar = new ProgressBar("epoch", process.stderr, 10);
    const { model, result, fit, validation } = fitModel(
      data,
      settings,
      backend,
      (e) =>
        bar.update({
          done: e.epoch,
          total: settings.train.epochs,
          fields: {
            loss: e.trainLoss.toFixed(4),
            ...(e.validationRmse !== undefined ? { "val RMSE": e.validationRmse.toFixed(4) } : {}),
          },
        }),
      resumed?.checkpoint,
    );
    const { csr, raw } = model.rawOutputsFor(data.test);
    const test = {
      ...ratingMetrics(model.predict(data.test), data.test.values),
      tutorialLoss: model.config.orientation === "user" ? tutorialLoss(raw, csr) : null,
    };
    const best = result.history[result.bestEpoch - 1];
    const epochs = result.history.length;
    say(
      `trained ${epochs} epochs in ${result.seconds.toFixed(1)}s` +
        `${validation ? `, kept epoch ${result.bestEpoch} (best validation RMSE ${best.validationRmse?.toFixed(4)})` : ""}` +
        `${result.stopped ? `; ${result.stopped}` : ""}\n` +
        `test RMSE ${test.rmse.toFixed(4)}  MAE ${test.mae.toFixed(4)}` +
        `${test.tutorialLoss !== null ? `  tutorial loss ${test.tutorialLoss.toFixed(4)}` : ""}\n`,
    );
    if (flags.show !== undefined) showTop(model, data, flags.show, say);
    if (flags.plot) {
      const series = [
        {
          name: "training loss",
          points: result.history.map((e) => [e.epoch, e.trainLoss] as [number, number]),
        },
      ];
      if (validation) {
        series.push({
          name: "validation RMSE",
          points: result.history.map((e) => [e.epoch, e.validationRmse!] as [number, number]),
        });
      }
      const title = `${flags.model} on ${data.dataset} ${data.split}${validation ? `, best epoch ${result.bestEpoch}` : ""}`;
      const marker = validation ? { x: result.bestEpoch, label: "kept" } : undefined;
      await writeFile(
        flags.plot,
        chartBytes(flags.plot, lineChart({ title, xLabel: "epoch", yLabel: "RMSE", series, marker })),
      );
      say(`wrote the training curve to ${flags.plot}\n`);
    }
    if (flags.save) {
      const checkpoint =
        result.state && result.lastParams && !settings.refit
          ? { state: result.state, params: result.lastParams, offset: model.offset }
          : undefined;
      await saveModel(flags.save, model, {
        checkpoint,
        kind: flags.model as ModelKind,
        dataset: data.dataset,
        split: data.split,
        userIds: data.userIds,
        itemIds: data.itemIds,
        movies: data.movies,
        training: {
          ...settings,
          kernels: backend.kernels.name,
          threads: backend.threads,
          history: result.history,
        },
        metrics: { test, validationRmse: best.validationRmse ?? null },
      });
      say(`saved the model to ${flags.save}\n`);
    }
    if (flags.json) {
      const summary = {
        dataset: data.dataset,
        split: data.split,
        model: flags.model,
        preset: flags.preset ?? null,
        nTrain: data.train.size,
        nFit: fit.size,
        nValidation: validation?.size ?? 0,
        nTest: data.test.size,
        epochs,
        bestEpoch: result.bestEpoch,
        seconds: (performance.now() - started) / 1000,
        trainSeconds: result.seconds,
        secondsPerEpoch: result.seconds / epochs,
        epochSeconds: result.history.map((h) => h.seconds),
        ...(settings.train.optimizer.kind === "lbfgs"
          ? { evaluations: result.history.reduce((n, h) => n + (h.evaluations ?? 0), 0) }
          : {}),
        trainLoss: best.trainLoss,
        validation: validation ? { rmse: best.validationRmse } : null,
        test,
        settings,
        kernels: backend.kernels.name,
        threads: backend.threads,
        peakMemoryMiB: process.resourceUsage().maxRSS / 1024,
      };
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    }
  } finally {
    backend.close();
  }
}

function showTop(model: AutoencoderModel, data: LoadedData, userId: number, say: (s: string) => void): void {
  const recommender = new Recommender(model, data.userIds, data.itemIds, data.movies);
  const { known, items } = recommender.forUser(userId, 10);
  if (!known) {
    say(`user ${userId} is not in ${data.dataset}; no recommendations shown\n`);
    return;
  }
  say(`top 10 for user ${userId} (movies he has not rated, predicted rating):\n`);
  for (const [rank, m] of items.entries())
    say(`${String(rank + 1).padStart(3)}. ${m.score.toFixed(2)}  ${m.title}\n`);
}

/** The flags that set a model's settings, shared by train and tune. */
export function addSettingOptions(command: Command): Command {
  return command
    .option("--model <model>", `${MODEL_KINDS.join(", ")}`, "sae")
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
    .option("--hidden <sizes>", "hidden layer sizes, e.g. 500 or 20,10,20", intListArg)
    .option("--activation <f>", `hidden activation: ${Object.keys(ACTIVATIONS).join(", ")}`)
    .option(
      "--optimizer <kind>",
      "adam, rmsprop, sgd (PyTorch semantics) or lbfgs (full batch, strong Wolfe)",
    )
    .option("--lr <rate>", "learning rate (L-BFGS: step scale)", numberArg(0))
    .option("--lambda <l2>", "AutoRec's L2 penalty on the weight matrices", numberArg(0))
    .option("--weight-decay <l2>", "optimizer weight decay added to every gradient (PyTorch's)", numberArg(0))
    .option("--batch-size <n>", "rows (users or movies) per optimizer step", intArg(1))
    .option("--dropout <p>", "dropout on the code layer while training", numberArg(0, 0.95))
    .option(
      "--input-dropout <p>",
      "hide this fraction of each row's input ratings while training",
      numberArg(0, 0.95),
    )
    .option(
      "--input-scaling <kind>",
      "none, or inverse-sqrt-count (each input row divided by the root of its count)",
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
    .option("--centered", "subtract the training mean from every rating the network sees")
    .option("--no-centered", "feed ratings as they are")
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

/** The data flags, shared by train and tune. */
export function addDataOptions(command: Command): Command {
  return command
    .option(
      "--dataset <name>",
      `${DATASET_NAMES.join(", ")}, or synthetic:ml-1m / synthetic:SHAPE`,
      "ml-100k",
    )
    .option("--split <split>", "u1..u5, ua, ub (ML-100K), ratio:0.9, or kfold:5:1 (default: u1 or ratio:0.9)")
    .option(
      "--data-dir <dir>",
      "folder holding the data sets (default: $MOVIELENS_DIR, then the download cache)",
    )
    .option("--no-download", "never download a missing data set")
    .option("--threads <n>", "threads for the kernels (the calling one included)", intArg(1, 64), 1)
    .option(
      "--kernels <kind>",
      "auto (WebAssembly SIMD when available), wasm, or reference (plain TypeScript)",
      "auto",
    );
}

/** `aerec train`. */
export function registerTrain(program: Command): void {
  const command = program
    .command("train")
    .description("train a model, report its test metrics, and optionally save it");
  addSettingOptions(addDataOptions(command))
    .option("--show <userId>", "print this user's top 10 unrated movies at the end", intArg(1))
    .option(
      "--save <file>",
      "write the trained model (safetensors with an aerec header) and its training state",
    )
    .option(
      "--resume <file>",
      "continue training a saved model (its data, settings and optimizer state) up to --epochs",
    )
    .option(
      "--plot <file>",
      "write the training loss and validation RMSE per epoch as a chart (.svg, or .png)",
    )
    .option("--json", "print one JSON summary as the last line of stdout (human text goes to stderr)")
    .addHelpText(
      "after",
      `
Models (every default was chosen on validation, never on test):
  sae        the tutorial's stacked autoencoder (users x movies, 20-10-20 sigmoid), trained properly:
             gradients reset every step, mini-batches of 16 users, Adam lr 0.003, mean squared error
             over observed ratings, each user's input divided by the square root of his rating count
  autorec-i  I-AutoRec (Sedhain et al. 2015): each movie's vector of user ratings, one sigmoid layer
             of 500, identity output, L2 lambda on the weights, full-batch L-BFGS
  autorec-u  U-AutoRec: the same over each user's vector of movie ratings
  deep-ae    a deep autoencoder (Kuchaiev & Ginsburg 2017): SELU layers, dropout on the code layer
Every model holds out 5% of the training ratings for early stopping (--validation, --patience) and
reports the test ratings only at the end.

--preset tutorial reproduces the PyTorch tutorial exactly: RMSprop lr 0.01 weight decay 0.5, one user per
step, 200 epochs, nn.MSELoss over all movie columns, and gradients that are never reset (the tutorial never
calls optimizer.zero_grad()). Flags given next to it still override it.

Metrics: global RMSE and MAE over every test rating (predictions clipped to the rating scale; a user or
movie with no training ratings gets the movie's, user's or global mean), and for user-based models the
tutorial's own per-user test loss.

Examples:
  aerec train --dataset ml-100k --split u1 --model sae --preset tutorial
  aerec train --model autorec-i --dataset ml-100k --split u1 --json
  aerec train --model autorec-i --dataset synthetic:ml-1m --split ratio:0.9 --threads 2
  aerec train --dataset ml-100k --show 1 --save sae.safetensors`,
    )
    .action((opts: TrainFlags) => runTrain(opts));
}
