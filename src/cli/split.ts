import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Command, Option } from "commander";
import type { IdMap, Ratings } from "../data/ratings.js";
import { RowWriter } from "./batch.js";
import { addSourceOptions, loadOrDownload, type SourceFlags } from "./data-flags.js";
import { intArg } from "./options.js";

interface SplitFlags extends SourceFlags {
  outDir: string;
  format: "csv" | "tsv";
}

/** Writes `ratings` by raw ids: CSV with a header, or tab-separated without one (ML-100K's u.data layout). */
async function writeRatings(
  file: string,
  ratings: Ratings,
  userIds: IdMap,
  itemIds: IdMap,
  format: "csv" | "tsv",
): Promise<void> {
  const columns = ["user", "item", "rating", ...(ratings.times ? ["timestamp"] : [])];
  const writer = new RowWriter(file, "csv", columns, format === "csv" ? "," : "\t", format === "csv");
  try {
    for (let k = 0; k < ratings.size; k++) {
      const row: unknown[] = [
        userIds.idAt(ratings.users[k]),
        itemIds.idAt(ratings.items[k]),
        ratings.values[k],
      ];
      if (ratings.times) row.push(ratings.times[k]);
      await writer.row(row);
    }
  } finally {
    await writer.close();
  }
}

async function runSplit(flags: SplitFlags): Promise<void> {
  const data = await loadOrDownload(flags, (s) => process.stderr.write(s));
  await mkdir(flags.outDir, { recursive: true });
  const ext = flags.format === "csv" ? "csv" : "tsv";
  const [train, test] = [join(flags.outDir, `train.${ext}`), join(flags.outDir, `test.${ext}`)];
  await writeRatings(train, data.train, data.userIds, data.itemIds, flags.format);
  await writeRatings(test, data.test, data.userIds, data.itemIds, flags.format);
  process.stderr.write(
    `${data.dataset} split ${data.split} (seed ${flags.seed}): ${data.train.size} training ratings to ${train}, ` +
      `${data.test.size} test ratings to ${test}\n`,
  );
}

/** `aerec split`. */
export function registerSplit(program: Command): void {
  addSourceOptions(
    program
      .command("split")
      .description(
        "write a seeded train/test split to files, so that other tools can run on exactly the same split",
      ),
  )
    .option("--seed <n>", "seed of random splits", intArg(0), 1)
    .requiredOption("--out-dir <dir>", "folder for train.csv and test.csv (or .tsv)")
    .addOption(
      new Option(
        "--format <format>",
        "csv (with a header) or tsv (tab-separated, no header: u.data's layout)",
      )
        .choices(["csv", "tsv"])
        .default("csv"),
    )
    .addHelpText(
      "after",
      `
The files hold raw ids (as the data state them), the rating and, where the data have one, the timestamp.
Read them back with --train DIR/train.csv --test DIR/test.csv: aerec then trains on exactly this split.

Examples:
  aerec split --dataset ml-100k --split ratio:0.8 --seed 3 --out-dir splits/ml-100k-80
  aerec split --ratings my-ratings.csv --split time:0.9 --out-dir splits/mine`,
    )
    .action((opts: SplitFlags) => runSplit(opts));
}
