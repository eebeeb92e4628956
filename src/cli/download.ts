import type { Command } from "commander";
import { DATASET_NAMES } from "../data/datasets.js";
import { downloadDataset, GROUPLENS_URL } from "../data/download.js";
import { cacheDir } from "../data/load.js";
import { ProgressBar } from "./progress.js";

/**
 * Downloads a data set with a progress bar; resolves to the folder it landed in. Ctrl-C stops it, and what
 * it had written is removed before the process exits.
 */
export async function downloadWithProgress(
  dataset: string,
  dataDir?: string,
  force = false,
): Promise<string> {
  const bar = new ProgressBar(`download ${dataset}`, process.stderr, 10);
  let lastMiB = -1;
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  const result = await downloadDataset(dataset, {
    dataDir,
    force,
    signal: stop.signal,
    onProgress: (received, total) => {
      const mib = Math.floor(received / 2 ** 20);
      if (mib === lastMiB && received !== total) return;
      lastMiB = mib;
      const totalMiB = total > 0 ? Math.ceil(total / 2 ** 20) : mib + 1;
      bar.update({
        done: Math.min(mib, totalMiB),
        total: totalMiB,
        fields: { MiB: `${(received / 2 ** 20).toFixed(1)}` },
      });
    },
  }).finally(() => {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
  });
  process.stderr.write(
    result.skipped
      ? `${dataset} is already in ${result.folder} (use --force to download again)\n`
      : `${dataset}: md5 ${result.md5} verified, extracted to ${result.folder}\n`,
  );
  return result.folder;
}

/** `aerec download`. */
export function registerDownload(program: Command): void {
  program
    .command("download")
    .description("download a MovieLens data set from GroupLens, check its md5 and extract it")
    .argument("<dataset>", `one of ${DATASET_NAMES.join(", ")}`)
    .option("--data-dir <dir>", `folder to extract into (default: ${cacheDir()})`)
    .option("--force", "download again even if the data set is already there")
    .addHelpText(
      "after",
      `
The archive comes from ${GROUPLENS_URL}/<dataset>.zip and is checked against the published
<dataset>.zip.md5 (set AEREC_DOWNLOAD_URL to use a mirror). Other commands find it in the cache, or pass
--data-dir / set MOVIELENS_DIR to the folder you extracted into.

The MovieLens data sets are licensed by GroupLens for research use and may not be redistributed; cite
F. M. Harper and J. A. Konstan, "The MovieLens Datasets: History and Context", ACM TiiS 5(4), 2015.

Example:
  aerec download ml-100k`,
    )
    .action(async (dataset: string, opts: { dataDir?: string; force?: boolean }) => {
      await downloadWithProgress(dataset, opts.dataDir, opts.force);
    });
}
