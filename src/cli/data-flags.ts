import type { Command } from "commander";
import { DATASET_NAMES, datasetInfo } from "../data/datasets.js";
import { DataNotFoundError } from "../data/errors.js";
import { type LoadedData, loadData } from "../data/load.js";
import { downloadWithProgress } from "./download.js";
import { intArg } from "./options.js";

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
