import { type Command, InvalidArgumentError } from "commander";
import type { LoadedData } from "../data/load.js";
import { Rng } from "../data/random.js";
import { createBackend, type KernelChoice } from "../kernels/index.js";
import type { ModelSettings } from "../train/presets.js";
import { modelKind } from "../train/registry.js";
import { validationFit } from "./auto-tune.js";
import { addDataOptions, loadOrDownload, type SourceFlags } from "./data-flags.js";
import { intArg, intListArg } from "./options.js";
import { ProgressBar } from "./progress.js";
import { addSettingOptions, describeSettings, type SettingFlags, settingsFrom } from "./settings.js";

interface TuneFlags extends SettingFlags, SourceFlags {
  threads: number;
  kernels: KernelChoice;
  lambdas?: number[];
  hiddens?: number[][];
  lrs?: number[];
  inputOffsets?: number[];
  random?: number;
  json?: boolean;
}

/** One point of the search and how it did on validation. */
interface Trial {
  lambda?: number;
  hidden?: number[];
  lr?: number;
  inputOffset?: number;
  validationRmse: number;
  bestEpoch: number;
  seconds: number;
}

/** Commander parser for a comma-separated list of numbers from 0 up, e.g. "1,10,100". */
function numberList(text: string): number[] {
  const list = text.split(",").map((x) => (x.trim() === "" ? Number.NaN : Number(x)));
  if (!list.every((x) => Number.isFinite(x) && x >= 0))
    throw new InvalidArgumentError('expected numbers from 0 up separated by commas, e.g. "1,10,100"');
  return list;
}

/** Commander parser for ";"-separated hidden sizes, e.g. "300;500" or "20,10,20;40,20,40". */
function hiddenList(text: string): number[][] {
  return text.split(";").map((h) => intListArg(h));
}

/** Every combination of the values given (absent lists contribute the model's default). */
function grid(flags: TuneFlags): Omit<Trial, "validationRmse" | "bestEpoch" | "seconds">[] {
  const points: Omit<Trial, "validationRmse" | "bestEpoch" | "seconds">[] = [];
  for (const lambda of flags.lambdas ?? [undefined]) {
    for (const hidden of flags.hiddens ?? [undefined]) {
      for (const lr of flags.lrs ?? [undefined]) {
        for (const inputOffset of flags.inputOffsets ?? [undefined])
          points.push({ lambda, hidden, lr, inputOffset });
      }
    }
  }
  return points;
}

async function runTune(flags: TuneFlags): Promise<void> {
  const say = (s: string) => (flags.json ? process.stderr : process.stdout).write(s);
  const data = await loadOrDownload(flags, say);
  let points = grid(flags);
  if (flags.random !== undefined && flags.random < points.length) {
    points = new Rng(flags.seed)
      .shuffle(points.map((_, i) => i))
      .slice(0, flags.random)
      .map((i) => points[i]);
  }
  if (modelKind(flags.model).family === "top-n") {
    throw new Error(
      `tune searches rating models by validation RMSE; ${flags.model} chooses its own settings on validation NDCG when it trains (aerec train --model ${flags.model})`,
    );
  }
  const base = settingsFrom(flags, data.scale) as ModelSettings;
  if (!(base.validation > 0))
    throw new Error(
      `tune chooses on validation ratings: --model ${flags.model} holds out none (--validation)`,
    );
  say(
    `tuning ${flags.model} on ${data.dataset} split ${data.split}: ${points.length} settings, each judged on ` +
      `${(base.validation * 100).toFixed(0)}% of the training ratings held out (the test ratings are not used)\n`,
  );
  const trials: Trial[] = [];
  const bar = new ProgressBar("setting", process.stderr);
  for (const point of points) {
    const backend = createBackend(flags.kernels, flags.threads);
    try {
      const { outcome, rmse } = validationFit(
        flags,
        {
          lambda: point.lambda ?? flags.lambda,
          hidden: point.hidden ?? flags.hidden,
          lr: point.lr ?? flags.lr,
          inputOffset: point.inputOffset ?? flags.inputOffset,
        },
        data,
        backend,
      );
      trials.push({ ...point, validationRmse: rmse, bestEpoch: outcome.bestEpoch, seconds: outcome.seconds });
    } finally {
      backend.close();
    }
    bar.update({
      done: trials.length,
      total: points.length,
      fields: { last: trials.at(-1)!.validationRmse.toFixed(4) },
    });
  }
  trials.sort((a, b) => a.validationRmse - b.validationRmse);
  say(`\n${describeSettings(flags.model, base, data)}\n`);
  say(
    `${"lambda".padStart(8)} ${"hidden".padStart(12)} ${"lr".padStart(8)} ${"offset".padStart(7)} ${"val RMSE".padStart(9)} ${"epoch".padStart(6)} ${"seconds".padStart(8)}\n`,
  );
  for (const t of trials) {
    say(
      `${String(t.lambda ?? base.train.l2).padStart(8)} ${(t.hidden ?? base.model.hidden).join(",").padStart(12)} ` +
        `${String(t.lr ?? base.train.optimizer.lr).padStart(8)} ` +
        `${String(t.inputOffset ?? base.model.inputOffset ?? 0).padStart(7)} ${t.validationRmse.toFixed(4).padStart(9)} ` +
        `${String(t.bestEpoch).padStart(6)} ${t.seconds.toFixed(1).padStart(8)}\n`,
    );
  }
  const best = trials[0];
  const args = [
    ...(best.lambda !== undefined ? ["--lambda", best.lambda] : []),
    ...(best.hidden ? ["--hidden", best.hidden.join(",")] : []),
    ...(best.lr !== undefined ? ["--lr", best.lr] : []),
    ...(best.inputOffset !== undefined ? ["--input-offset", best.inputOffset] : []),
  ];
  say(`best on validation: aerec train --model ${flags.model} ${dataFlags(flags, data)} ${args.join(" ")}\n`);
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ model: flags.model, dataset: data.dataset, split: data.split, trials })}\n`,
    );
}

/** `aerec tune`. */
export function registerTune(program: Command): void {
  const command = program
    .command("tune")
    .description("search hyper-parameters on validation ratings (grid or random) and print a table");
  addSettingOptions(addDataOptions(command))
    .option("--lambdas <list>", "L2 penalties to try, e.g. 1,10,100", numberList)
    .option(
      "--hiddens <list>",
      'hidden layer sizes to try, ";" between settings, e.g. "300;500" or "20,10,20;40,20,40"',
      hiddenList,
    )
    .option("--lrs <list>", "learning rates to try, e.g. 0.001,0.003", numberList)
    .option("--input-offsets <list>", "input offsets to try, e.g. 0,5,15", numberList)
    .option("--random <n>", "try only n settings drawn at random from the grid", intArg(1))
    .option("--json", "print every trial as JSON on the last line of stdout")
    .addHelpText(
      "after",
      `
Each setting is trained with early stopping on the held-out validation ratings and ranked by its best
validation RMSE; the test ratings are never looked at. Train the winner with "aerec train" and the printed
flags to see its test RMSE.

Example:
  aerec tune --model autorec-i --dataset ml-100k --split u1 --lambdas 1,10,100,1000 --hiddens "300;500"`,
    )
    .action((opts: TuneFlags) => runTune(opts));
}

/** The flags that name the same data and split again: a data set, or your own files. */
function dataFlags(flags: TuneFlags, data: LoadedData): string {
  if (flags.train && flags.test) return `--train ${flags.train} --test ${flags.test}`;
  const source = flags.ratings ? `--ratings ${flags.ratings}` : `--dataset ${data.dataset}`;
  return `${source} --split ${data.split}`;
}
