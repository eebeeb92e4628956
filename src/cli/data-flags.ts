import { basename } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { DATASET_NAMES, datasetInfo, type RatingScale } from "../data/datasets.js";
import { separatorOf } from "../data/delimited.js";
import { DataNotFoundError } from "../data/errors.js";
import { type FileSource, loadFiles } from "../data/files.js";
import { type DataOptions, type LoadedData, loadData } from "../data/load.js";
import { keepItemsRatedAtLeast } from "../data/splits.js";
import { downloadWithProgress } from "./download.js";
import { intArg, kernelsOption } from "./options.js";
import { ProgressBar } from "./progress.js";

/** Where the data come from: a named data set, or your own files (FileSource's flags). */
export interface SourceFlags extends FileSource {
  dataset: string;
  split?: string;
  seed: number;
  dataDir?: string;
  download: boolean;
  minItemRatings?: number;
}

/**
 * Loads data: your own files when --ratings or --train/--test name them, else the --dataset (a GroupLens
 * data set that is nowhere to be found is downloaded into the cache first); keeps only the items with at
 * least `--min-item-ratings` training ratings, when given. What was inferred is logged.
 */
export async function loadOrDownload(flags: SourceFlags, log: (s: string) => void): Promise<LoadedData> {
  const own = flags.ratings || flags.train || flags.test;
  const onProgress = loadingBars();
  const data = own
    ? await loadFiles(flags, { split: flags.split, seed: flags.seed, onProgress })
    : await loadOrFetch({ ...flags, onProgress }, log);
  for (const note of data.notes) log(`${note}\n`);
  if (!flags.minItemRatings) return data;
  const kept = keepItemsRatedAtLeast(data, flags.minItemRatings);
  log(
    `kept the ${kept.itemIds.size} of ${data.itemIds.size} movies with at least ${flags.minItemRatings} ` +
      `training ratings (${kept.train.size} training and ${kept.test.size} test ratings)\n`,
  );
  return kept;
}

/** A progress bar per ratings file, drawn only for a file that takes over a second to read. */
function loadingBars(): NonNullable<DataOptions["onProgress"]> {
  const bars = new Map<string, ProgressBar>();
  return (file, read, total) => {
    if (!bars.has(file))
      bars.set(file, new ProgressBar(`loading ${basename(file)} MiB`, process.stderr, 64, 1));
    bars
      .get(file)!
      .update({ done: Math.round(read / 2 ** 20), total: Math.max(1, Math.round(total / 2 ** 20)) });
  };
}

async function loadOrFetch(
  flags: Pick<SourceFlags, "dataset" | "split" | "seed" | "dataDir" | "download"> &
    Pick<DataOptions, "onProgress">,
  log: (s: string) => void,
): Promise<LoadedData> {
  const options = {
    dataDir: flags.dataDir,
    split: flags.split,
    seed: flags.seed,
    onProgress: flags.onProgress,
  };
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

/** Commander parser for --scale MIN:MAX[:STEP] (the step defaults to 1 for whole MIN and MAX). */
export function scaleArg(text: string): RatingScale {
  const parts = text.split(":").map(Number);
  const [min, max, step = Number.isInteger(parts[0]) && Number.isInteger(parts[1]) ? 1 : Number.NaN] = parts;
  if (parts.length < 2 || parts.length > 3 || !(min < max) || !(step > 0) || !Number.isFinite(max))
    throw new InvalidArgumentError("expected MIN:MAX or MIN:MAX:STEP with MIN < MAX, e.g. 1:5 or 0.5:5:0.5");
  return { min, max, step };
}

const listArg = (text: string) => text.split(",").map((c) => c.trim());

/** The flags that read your own files; shared by train, tune, evaluate and split. */
export function addFileOptions(command: Command): Command {
  return command
    .option(
      "--ratings <file>",
      "your own ratings (or interactions) file, delimited, .gz allowed; split by --split",
    )
    .option("--train <file>", "a fixed training file (with --test): a published split, or your own")
    .option("--test <file>", "the test file that goes with --train")
    .option(
      "--sep <sep>",
      'field separator: tab, ",", "::", ";", "|" or any text (default: detected)',
      separatorOf,
    )
    .option(
      "--columns <list>",
      "user,item[,rating[,timestamp]] columns: header names or 1-based positions (default: found by name, else 1,2,3,4)",
      listArg,
    )
    .option("--header", "the first line names the columns (default: detected)")
    .option("--no-header", "the first line is data")
    .option(
      "--scale <min:max[:step]>",
      "rating scale, e.g. 1:5 or 0.5:5:0.5 (default: inferred and printed)",
      scaleArg,
    )
    .option(
      "--implicit",
      "every line is a positive (interactions; any rating column is ignored): top-N models only",
    )
    .option(
      "--items <file>",
      "item titles (and genres) for your own data: a delimited file of id, title[, genres]",
    )
    .option(
      "--item-columns <list>",
      "the --items file's id,title[,genres] columns: names or positions",
      listArg,
    );
}

/** Where the data come from: --dataset or your own files, the split, and where data sets are kept. */
export function addSourceOptions(command: Command): Command {
  return addFileOptions(command)
    .option(
      "--dataset <name>",
      `${DATASET_NAMES.join(", ")}, or synthetic:ml-1m / synthetic:SHAPE`,
      "ml-100k",
    )
    .option(
      "--split <split>",
      "u1..u5, ua, ub (ML-100K), ratio:0.9, kfold:5:1, time:0.9 (each user's latest 10% as test) or time-global:0.9 (default: u1 or ratio:0.9)",
    )
    .option(
      "--data-dir <dir>",
      "folder holding the data sets (default: $MOVIELENS_DIR, then the download cache)",
    )
    .option("--no-download", "never download a missing data set")
    .option(
      "--min-item-ratings <n>",
      "keep only the movies with at least n training ratings (for EASE's items x items matrix on big catalogues)",
      intArg(1),
    );
}

/** The data flags and the kernels they run on, shared by train and tune. */
export function addDataOptions(command: Command): Command {
  return addSourceOptions(command)
    .option("--threads <n>", "threads for the kernels (the calling one included)", intArg(1, 64), 1)
    .addOption(kernelsOption());
}
