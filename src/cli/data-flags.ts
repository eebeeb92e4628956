import type { Command } from "commander";
import { DATASET_NAMES, datasetInfo } from "../data/datasets.js";
import { DataNotFoundError } from "../data/errors.js";
import { type LoadedData, loadData } from "../data/load.js";
import { keepItemsRatedAtLeast } from "../data/splits.js";
import { downloadWithProgress } from "./download.js";
import { intArg, kernelsOption } from "./options.js";

/**
 * Loads data (keeping only the items with at least `--min-item-ratings` training ratings, when given); a
 * GroupLens data set that is nowhere to be found is downloaded into the cache first.
 */
export async function loadOrDownload(
  flags: {
    dataset: string;
    split?: string;
    seed: number;
    dataDir?: string;
    download: boolean;
    minItemRatings?: number;
  },
  log: (s: string) => void,
): Promise<LoadedData> {
  const data = await loadOrFetch(flags, log);
  if (!flags.minItemRatings) return data;
  const kept = keepItemsRatedAtLeast(data, flags.minItemRatings);
  log(
    `kept the ${kept.itemIds.size} of ${data.itemIds.size} movies with at least ${flags.minItemRatings} ` +
      `training ratings (${kept.train.size} training and ${kept.test.size} test ratings)\n`,
  );
  return kept;
}

async function loadOrFetch(
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
    .option(
      "--min-item-ratings <n>",
      "keep only the movies with at least n training ratings (for EASE's items x items matrix on big catalogues)",
      intArg(1),
    )
    .option("--threads <n>", "threads for the kernels (the calling one included)", intArg(1, 64), 1)
    .addOption(kernelsOption());
}
