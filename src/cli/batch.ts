import { createWriteStream, type WriteStream } from "node:fs";
import type { Command } from "commander";
import { IdInterner, readCodedRatings, separatorOf, sniffFormat } from "../data/delimited.js";
import { Ratings, type RawId } from "../data/ratings.js";
import type { KernelChoice } from "../kernels/index.js";
import { predict } from "../model/model.js";
import type { MovieScore, Recommender } from "../model/recommender.js";
import { openRecommender } from "../store/open-recommender.js";
import { kernelsOption, rawIdArg } from "./options.js";
import { ProgressBar } from "./progress.js";

/** How a batch job writes its rows: CSV with a header, or one JSON object a line. */
export type OutputFormat = "csv" | "jsonl";

/** The format an output file's name asks for: .jsonl / .ndjson / .json are JSON lines, anything else CSV. */
export function outputFormatOf(file: string): OutputFormat {
  return /\.(jsonl|ndjson|json)$/i.test(file) ? "jsonl" : "csv";
}

/** Float32 results are written with the digits they hold (7), not a double's noise. */
function shortNumber(value: unknown): unknown {
  return typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(7)) : value;
}

function csvField(value: unknown, sep: string): string {
  const text = value === null || value === undefined ? "" : String(value);
  return text.includes(sep) || /["\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A file written row by row, waiting whenever the stream asks (so a big job stays in bounded memory). */
export class RowWriter {
  private readonly out: WriteStream;

  constructor(
    file: string,
    private readonly format: OutputFormat,
    private readonly columns: string[],
    /** Separator of the "csv" format, and whether it starts with a header line. */
    private readonly sep = ",",
    header = true,
  ) {
    this.out = createWriteStream(file);
    if (format === "csv" && header) this.out.write(`${columns.join(sep)}\n`);
  }

  async row(row: unknown[]): Promise<void> {
    const values = row.map(shortNumber);
    const line =
      this.format === "csv"
        ? values.map((v) => csvField(v, this.sep)).join(this.sep)
        : JSON.stringify(Object.fromEntries(this.columns.map((c, i) => [c, values[i]])));
    if (!this.out.write(`${line}\n`))
      await new Promise<void>((resolve) => this.out.once("drain", () => resolve()));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.once("error", reject);
      this.out.end(resolve);
    });
  }
}

/** Users scored per batch by `recommendAllUsers`. */
const USER_BATCH = 256;

/**
 * Every user's top k, streamed to `file` (CSV: user, rank, item, title, score, predicted; JSON lines: one
 * object a user), with a progress bar on stderr. Returns the number of users written.
 */
export async function recommendAllUsers(recommender: Recommender, k: number, file: string): Promise<number> {
  const format = outputFormatOf(file);
  const writer = new RowWriter(
    file,
    format,
    format === "csv" ? ["user", "rank", "item", "title", "score", "predicted"] : ["user", "items"],
  );
  const n = recommender.userIds.size;
  const bar = new ProgressBar("users", process.stderr, USER_BATCH);
  try {
    for (let start = 0; start < n; start += USER_BATCH) {
      const users = Array.from({ length: Math.min(USER_BATCH, n - start) }, (_, b) => start + b);
      const lists = recommender.forUserIndices(users, k);
      for (const [b, items] of lists.entries()) {
        const user = recommender.userIds.idAt(users[b]);
        if (format === "jsonl") await writer.row([user, items.map(jsonItem)]);
        else
          for (const [rank, m] of items.entries())
            await writer.row([user, rank + 1, m.movieId, m.title, m.score, m.predicted]);
      }
      bar.update({ done: start + users.length, total: n });
    }
  } finally {
    await writer.close();
  }
  return n;
}

/** A movie as JSON output shows it. */
export function jsonItem({ movieId, title, year, genres, score, predicted }: MovieScore) {
  return { movieId, title, year, genres, score, predicted };
}

interface PredictFlags {
  modelFile: string;
  user?: RawId;
  item?: RawId;
  pairs?: string;
  out?: string;
  sep?: string;
  header?: boolean;
  columns?: string[];
  json?: boolean;
  kernels: KernelChoice;
}

/**
 * Predicted ratings for (user, item) pairs of raw ids, and whether each is a fallback: a user or item the
 * model has not seen gets the one `predict` gives (the item's, the user's or the global mean).
 */
function predictPairs(
  recommender: Recommender,
  users: RawId[],
  items: RawId[],
): { predictions: Float32Array; fallback: boolean[] } {
  const { userIds, itemIds, model } = recommender;
  const u = userIds.indicesOf(users);
  const i = itemIds.indicesOf(items);
  const fallback = Array.from(u, (user, k) => user < 0 || i[k] < 0);
  // An unknown id is the index one past the last, which only the fallback reads.
  for (let k = 0; k < u.length; k++) {
    if (u[k] < 0) u[k] = userIds.size;
    if (i[k] < 0) i[k] = itemIds.size;
  }
  const pairs = new Ratings(u, i, new Float32Array(users.length), userIds.size + 1, itemIds.size + 1);
  return { predictions: predict(model, pairs), fallback };
}

async function runPredict(flags: PredictFlags): Promise<void> {
  const single = flags.user !== undefined || flags.item !== undefined;
  if (single === (flags.pairs !== undefined))
    throw new Error("give --user ID --item ID for one prediction, or --pairs FILE (--out FILE) for many");
  const { recommender } = await openRecommender(flags.modelFile, flags.kernels);
  if (recommender.model.ranksOnly) {
    throw new Error(
      `${flags.modelFile} holds a top-N model (${recommender.model.kind}), which ranks and predicts no ratings: ` +
        "predict with a rating model (autorec-i, mf, ...) or recommend with this one",
    );
  }
  if (single) {
    if (flags.user === undefined || flags.item === undefined)
      throw new Error("--user and --item go together");
    const one = predictPairs(recommender, [flags.user], [flags.item]);
    const [rating, fallback] = [one.predictions[0], one.fallback[0]];
    if (flags.json)
      process.stdout.write(
        `${JSON.stringify({ user: flags.user, item: flags.item, prediction: rating, fallback })}\n`,
      );
    else
      process.stdout.write(
        `user ${flags.user}, item ${flags.item}: ${rating.toFixed(3)}${fallback ? " (not in the model: a mean rating)" : ""}\n`,
      );
    return;
  }
  const file = flags.pairs!;
  const sniffed = await sniffFormat(file, {
    sep: flags.sep,
    header: flags.header,
    columns: flags.columns,
    implicit: true,
  });
  const format = { ...sniffed, columns: { ...sniffed.columns, timestamp: -1 } };
  const interned = { users: new IdInterner(), items: new IdInterner() };
  const coded = await readCodedRatings(file, format, interned);
  const users = Array.from(coded.users, (c) => interned.users.idOf(c));
  const items = Array.from(coded.items, (c) => interned.items.idOf(c));
  const { predictions, fallback } = predictPairs(recommender, users, items);
  const out = flags.out ?? "/dev/stdout";
  const writer = new RowWriter(out, outputFormatOf(out), ["user", "item", "prediction", "fallback"]);
  try {
    for (let k = 0; k < users.length; k++)
      await writer.row([users[k], items[k], predictions[k], fallback[k]]);
  } finally {
    await writer.close();
  }
  if (flags.out) process.stderr.write(`wrote ${users.length} predictions to ${flags.out}\n`);
}

/** `aerec predict`. */
export function registerPredict(program: Command): void {
  program
    .command("predict")
    .description(
      "the rating a user would give an item: one pair, or a file of pairs to a file of predictions",
    )
    .requiredOption("--model-file <file>", "a rating model saved by aerec train --save")
    .option("--user <id>", "one user (with --item)", rawIdArg)
    .option("--item <id>", "one item (with --user)", rawIdArg)
    .option("--pairs <file>", "a delimited file of user,item pairs (more columns are ignored; .gz allowed)")
    .option(
      "--out <file>",
      "where --pairs' predictions go: .csv, or .jsonl for JSON lines (default: stdout, CSV)",
    )
    .option("--sep <sep>", "the --pairs file's separator (default: detected)", separatorOf)
    .option(
      "--columns <list>",
      "the --pairs file's user,item columns: header names or 1-based positions",
      (t) => t.split(","),
    )
    .option("--header", "the --pairs file's first line names its columns (default: detected)")
    .option("--no-header", "the --pairs file's first line is a pair")
    .option("--json", 'one pair: print {"user", "item", "prediction", "fallback"}')
    .addOption(kernelsOption())
    .addHelpText(
      "after",
      `
Predictions are clipped to the model's rating scale. A user or item the model was not trained with gets
a mean rating instead (the item's, else the user's, else the global one), marked "fallback".

Examples:
  aerec predict --model-file autorec.safetensors --user 1 --item 50
  aerec predict --model-file autorec.safetensors --pairs pairs.csv --out predictions.csv`,
    )
    .action((opts: PredictFlags) => runPredict(opts));
}
