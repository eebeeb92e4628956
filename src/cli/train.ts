import type { Command } from "commander";
import { DATASET_NAMES, datasetInfo } from "../data/datasets.js";
import { DataNotFoundError } from "../data/errors.js";
import { type LoadedData, loadData } from "../data/load.js";
import { validationSplit } from "../data/splits.js";
import { ratingMetrics, tutorialLoss } from "../eval/metrics.js";
import { createBackend, type KernelChoice } from "../kernels/index.js";
import { topK } from "../model/recommend.js";
import { SaeModel } from "../model/sae-model.js";
import { saveModel } from "../store/model-file.js";
import { optimizerDefaults } from "../train/optimizers.js";
import { ProgressBar } from "../train/progress.js";
import { SAE_DEFAULT, type SaeSettings, TUTORIAL_PRESET } from "../train/sae-presets.js";
import { trainSae } from "../train/train-sae.js";
import { downloadWithProgress } from "./download.js";
import { intArg, intListArg, numberArg } from "./options.js";

interface TrainFlags {
  dataset: string;
  split?: string;
  model: string;
  preset?: string;
  epochs?: number;
  seed: number;
  threads: number;
  kernels: KernelChoice;
  save?: string;
  json?: boolean;
  dataDir?: string;
  hidden?: number[];
  optimizer?: "adam" | "rmsprop" | "sgd";
  lr?: number;
  weightDecay?: number;
  batchSize?: number;
  validation?: number;
  patience?: number;
  show?: number;
  download: boolean;
}

/** Loads data; a GroupLens data set that is nowhere to be found is downloaded into the cache first. */
async function loadOrDownload(flags: TrainFlags, log: (s: string) => void): Promise<LoadedData> {
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

/** The preset or default settings with the command-line overrides applied. */
function settingsFrom(flags: TrainFlags): SaeSettings {
  const base = flags.preset === "tutorial" ? TUTORIAL_PRESET : SAE_DEFAULT;
  const optimizer =
    flags.optimizer && flags.optimizer !== base.train.optimizer.kind
      ? optimizerDefaults(
          flags.optimizer,
          flags.lr ?? base.train.optimizer.lr,
          base.train.optimizer.weightDecay,
        )
      : { ...base.train.optimizer };
  if (flags.lr !== undefined) optimizer.lr = flags.lr;
  if (flags.weightDecay !== undefined) optimizer.weightDecay = flags.weightDecay;
  return {
    hidden: flags.hidden ?? base.hidden,
    inputScaling: base.inputScaling,
    validation: flags.validation ?? base.validation,
    train: {
      ...base.train,
      optimizer,
      seed: flags.seed,
      epochs: flags.epochs ?? base.train.epochs,
      batchSize: flags.batchSize ?? base.train.batchSize,
      patience: flags.patience ?? base.train.patience,
    },
  };
}

async function runTrain(flags: TrainFlags): Promise<void> {
  const say = (s: string) => (flags.json ? process.stderr : process.stdout).write(s);
  if (flags.model !== "sae") throw new Error(`unknown model "${flags.model}": available models: sae`);
  if (flags.preset !== undefined && flags.preset !== "tutorial") {
    throw new Error(`unknown preset "${flags.preset}": the only preset is "tutorial"`);
  }
  const started = performance.now();
  const data = await loadOrDownload(flags, say);
  const settings = settingsFrom(flags);
  const { fit, validation } =
    settings.validation > 0
      ? validationSplit(data.train, settings.validation, flags.seed)
      : { fit: data.train, validation: undefined };
  say(
    `${data.dataset} split ${data.split}: ${data.train.size} training ratings` +
      `${validation ? ` (${validation.size} held out for validation)` : ""}, ${data.test.size} test ratings, ` +
      `${data.userIds.size} users, ${data.itemIds.size} movies\n`,
  );
  const backend = createBackend(flags.kernels, flags.threads);
  try {
    const model = new SaeModel(settings.hidden, fit, data.scale, backend, settings.inputScaling);
    model.network.initialize(flags.seed);
    const { train } = settings;
    say(
      `model sae ${[data.itemIds.size, ...settings.hidden, data.itemIds.size].join("-")}, ` +
        `${train.optimizer.kind} lr ${train.optimizer.lr} weight decay ${train.optimizer.weightDecay}, ` +
        `batch ${train.batchSize}, ${train.resetGradients ? "gradients reset each step" : "gradients accumulated (tutorial)"}, ` +
        `kernels ${backend.kernels.name} x${backend.threads} thread${backend.threads > 1 ? "s" : ""}\n`,
    );
    const bar = new ProgressBar("epoch", process.stderr, 10);
    const result = trainSae(model, train, {
      validation,
      onEpoch: (e) =>
        bar.update({
          done: e.epoch,
          total: train.epochs,
          fields: {
            loss: e.trainLoss.toFixed(4),
            ...(e.validationRmse !== undefined ? { "val RMSE": e.validationRmse.toFixed(4) } : {}),
          },
        }),
    });
    if (validation) model.useRatings(data.train);
    const testCsr = data.test.byUser();
    const test = {
      ...ratingMetrics(model.predict(data.test), data.test.values),
      tutorialLoss: tutorialLoss(model.rawOutputs(testCsr), testCsr),
    };
    const last = result.history[result.bestEpoch - 1];
    const seconds = (performance.now() - started) / 1000;
    say(
      `trained ${result.history.length} epochs in ${result.seconds.toFixed(1)}s` +
        `${validation ? `, kept epoch ${result.bestEpoch} (best validation RMSE ${last.validationRmse?.toFixed(4)})` : ""}\n` +
        `test RMSE ${test.rmse.toFixed(4)}  MAE ${test.mae.toFixed(4)}  tutorial loss ${test.tutorialLoss.toFixed(4)}\n`,
    );
    if (flags.show !== undefined) showTop(model, data, flags.show, say);
    if (flags.save) {
      await saveModel(flags.save, model, {
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
        metrics: { test, validationRmse: last.validationRmse ?? null },
      });
      say(`saved the model to ${flags.save}\n`);
    }
    if (flags.json) {
      const summary = {
        dataset: data.dataset,
        split: data.split,
        model: "sae",
        preset: flags.preset ?? null,
        nTrain: data.train.size,
        nFit: fit.size,
        nValidation: validation?.size ?? 0,
        nTest: data.test.size,
        epochs: result.history.length,
        bestEpoch: result.bestEpoch,
        seconds,
        trainSeconds: result.seconds,
        secondsPerEpoch: result.seconds / result.history.length,
        trainLoss: last.trainLoss,
        validation: validation ? { rmse: last.validationRmse } : null,
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

function showTop(model: SaeModel, data: LoadedData, userId: number, say: (s: string) => void): void {
  const user = data.userIds.indexOf(userId);
  if (user < 0) {
    say(`user ${userId} is not in ${data.dataset}; no recommendations shown\n`);
    return;
  }
  const csr = model.input;
  const rated = csr.indices.subarray(csr.indptr[user], csr.indptr[user + 1]);
  say(`top 10 for user ${userId} (movies he has not rated, predicted rating):\n`);
  topK(model.scoreAll(user), 10, rated).forEach(({ item, score }, rank) => {
    const id = data.itemIds.ids[item];
    const movie = data.movies.get(id);
    say(
      `${String(rank + 1).padStart(3)}. ${model.clip(score).toFixed(2)}  ${movie?.title ?? `movie ${id}`}\n`,
    );
  });
}

export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("train a model, report its test metrics, and optionally save it")
    .option(
      "--dataset <name>",
      `${DATASET_NAMES.join(", ")}, or synthetic:ml-1m / synthetic:SHAPE`,
      "ml-100k",
    )
    .option("--split <split>", "u1..u5, ua, ub (ML-100K), ratio:0.9, or kfold:5:1 (default: u1 or ratio:0.9)")
    .option("--model <model>", "model to train: sae (the tutorial's stacked autoencoder)", "sae")
    .option(
      "--preset <preset>",
      'reproduce a published setup: "tutorial" (the PyTorch tutorial, quirks included)',
    )
    .option("--epochs <n>", "maximum number of epochs", intArg(1))
    .option(
      "--seed <n>",
      "seed of the initialisation, shuffling, validation split and random splits",
      intArg(0),
      1,
    )
    .option("--threads <n>", "threads for the kernels (the calling one included)", intArg(1, 64), 1)
    .option(
      "--kernels <kind>",
      "auto (WebAssembly SIMD when available), wasm, or reference (plain TypeScript)",
      "auto",
    )
    .option("--hidden <sizes>", "hidden layer sizes, e.g. 20,10,20", intListArg)
    .option("--optimizer <kind>", "adam, rmsprop or sgd (PyTorch semantics)")
    .option("--lr <rate>", "learning rate", numberArg(0))
    .option("--weight-decay <l2>", "L2 weight decay added to the gradient", numberArg(0))
    .option("--batch-size <n>", "users per optimizer step", intArg(1))
    .option(
      "--validation <fraction>",
      "fraction of the training ratings held out for early stopping",
      numberArg(0, 0.5),
    )
    .option(
      "--patience <n>",
      "stop after this many epochs without a better validation RMSE (0: never)",
      intArg(0),
    )
    .option("--show <userId>", "print this user's top 10 unrated movies at the end", intArg(1))
    .option(
      "--data-dir <dir>",
      "folder holding the data sets (default: $MOVIELENS_DIR, then the download cache)",
    )
    .option("--no-download", "never download a missing data set")
    .option("--save <file>", "write the trained model (safetensors with an aerec header)")
    .option("--json", "print one JSON summary as the last line of stdout (human text goes to stderr)")
    .addHelpText(
      "after",
      `
Without --preset, sae trains the corrected default: gradients reset every step, shuffled mini-batches of
16 users, Adam (lr 0.003), mean squared error over observed ratings, each user's input divided by the square
root of his rating count, and early stopping (patience 30) on 5% of the training ratings held out for
validation. The test ratings are used only for the final report.

--preset tutorial reproduces the PyTorch tutorial exactly: RMSprop lr 0.01 weight decay 0.5, one user per
step, 200 epochs, nn.MSELoss over all movie columns, and gradients that are never reset (the tutorial never
calls optimizer.zero_grad()). Flags given next to it still override it.

Metrics: global RMSE and MAE over every test rating (predictions clipped to the rating scale; a user or
movie with no training ratings gets the movie's, user's or global mean), and the tutorial's own per-user
test loss for comparison.

Examples:
  aerec train --dataset ml-100k --split u1 --model sae --preset tutorial
  aerec train --dataset ml-100k --show 1 --save sae.safetensors
  aerec train --dataset synthetic:ml-1m --split ratio:0.9 --threads 2 --json`,
    )
    .action((opts: TrainFlags) => runTrain(opts));
}
