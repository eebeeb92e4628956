import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { DataFormatError } from "../data/errors.js";
import { type RawId, rawIdOf } from "../data/ratings.js";
import type { KernelChoice } from "../kernels/index.js";
import type { MovieRating, MovieScore, Recommender } from "../model/recommender.js";
import { openRecommender } from "../store/open-recommender.js";
import { jsonItem, recommendAllUsers } from "./batch.js";
import { intArg, kernelsOption, rawIdArg } from "./options.js";

/** Reads `movieId,rating` lines (a header line `movieId,rating` is allowed; ids may be any text). */
export async function readRatingsCsv(file: string): Promise<MovieRating[]> {
  const text = await readFile(file, "utf8").catch(() => {
    throw new Error(`${file}: file not found`);
  });
  const out: MovieRating[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || (i === 0 && /^(movie|item)id\s*,\s*rating$/i.test(line))) return;
    const m = /^(.+?)\s*,\s*(\d+(?:\.\d+)?)$/.exec(line);
    if (!m) throw new DataFormatError(file, i + 1, `expected "movieId,rating", found ${JSON.stringify(raw)}`);
    out.push({ movieId: rawIdOf(m[1]), rating: Number(m[2]) });
  });
  if (out.length === 0) throw new DataFormatError(file, 0, "no ratings in the file");
  return out;
}

function parseRate(text: string, previous: MovieRating[] = []): MovieRating[] {
  const m = /^(.+)=(\d+(?:\.\d+)?)$/.exec(text);
  if (!m) throw new Error(`--rate takes MOVIE_ID=RATING, e.g. --rate 50=5 (got "${text}")`);
  return [...previous, { movieId: rawIdOf(m[1]), rating: Number(m[2]) }];
}

function printMovies(items: MovieScore[], label: string, value: (m: MovieScore) => number | null): void {
  process.stdout.write(`${label}\n`);
  items.forEach((m, rank) => {
    const genres = m.genres.length > 0 ? `  [${m.genres.join(", ")}]` : "";
    const shown = value(m);
    process.stdout.write(
      `${String(rank + 1).padStart(3)}. ${shown !== null ? `${shown.toFixed(2)}  ` : ""}${m.title}${genres}  (movie ${m.movieId})\n`,
    );
  });
}

const jsonItems = (items: MovieScore[]) => items.map(jsonItem);

/** What the numbers beside a list are, as its heading says it. */
function starsLabel(recommender: Recommender): string {
  const { model, rater } = recommender;
  if (!rater) return `ranked by ${model.kind}, no rating model for stars`;
  return rater === model ? "predicted rating" : `ranked by ${model.kind}, predicted rating by ${rater.kind}`;
}

interface RecommendFlags {
  modelFile: string;
  ratingModelFile?: string;
  user?: RawId;
  ratings?: string;
  rate?: MovieRating[];
  allUsers?: boolean;
  out?: string;
  k: number;
  json?: boolean;
  kernels: KernelChoice;
  minRatings: number;
}

interface SimilarFlags {
  modelFile: string;
  movie: RawId;
  k: number;
  minRatings: number;
  json?: boolean;
  kernels: KernelChoice;
}

async function runRecommend(flags: RecommendFlags): Promise<void> {
  const sources = [flags.user, flags.ratings, flags.rate, flags.allUsers].filter(
    (s) => s !== undefined,
  ).length;
  if (sources !== 1) {
    throw new Error(
      "give exactly one of --user ID, --ratings FILE.csv, --rate MOVIE=RATING (repeatable) or --all-users --out FILE",
    );
  }
  if (flags.allUsers && !flags.out)
    throw new Error("--all-users writes a file: give --out recs.csv (or .jsonl)");
  const { recommender } = await openRecommender(
    flags.modelFile,
    flags.kernels,
    flags.minRatings,
    flags.ratingModelFile,
  );
  if (flags.allUsers) {
    const n = await recommendAllUsers(recommender, flags.k, flags.out!);
    process.stderr.write(`wrote the top ${flags.k} of ${n} users to ${flags.out}\n`);
    return;
  }
  if (flags.user !== undefined) {
    if (recommender.userIds.indexOf(flags.user) < 0) {
      throw new Error(
        `user ${flags.user} is not in this model (it knows ${recommender.userIds.size} users): ` +
          "for someone new, give his ratings with --rate MOVIE=RATING or --ratings FILE.csv",
      );
    }
    const { known, items } = recommender.forUser(flags.user, flags.k);
    if (flags.json)
      process.stdout.write(`${JSON.stringify({ user: flags.user, known, items: jsonItems(items) })}\n`);
    else
      printMovies(
        items,
        known
          ? `top ${flags.k} for user ${flags.user} (${starsLabel(recommender)}):`
          : "most rated movies (training mean):",
        (m) => (known ? m.predicted : m.score),
      );
    return;
  }
  const ratings = flags.ratings ? await readRatingsCsv(flags.ratings) : flags.rate!;
  const items = recommender.forRatings(ratings, flags.k);
  if (flags.json) process.stdout.write(`${JSON.stringify({ user: null, items: jsonItems(items) })}\n`);
  else
    printMovies(
      items,
      `top ${flags.k} from your ${ratings.length} rating${ratings.length > 1 ? "s" : ""} (${starsLabel(recommender)}):`,
      (m) => m.predicted,
    );
}

/** `aerec recommend` and `aerec similar`. */
export function registerRecommend(program: Command): void {
  program
    .command("recommend")
    .description("top-k movies for a user of the model, or for anyone from a few ratings (no retraining)")
    .requiredOption("--model-file <file>", "a model saved by aerec train --save")
    .option(
      "--rating-model-file <file>",
      "a rating model trained on the same data, for the stars beside a top-N model's list",
    )
    .option("--user <id>", "a user the model was trained with", rawIdArg)
    .option("--ratings <file>", "a CSV of movieId,rating lines: recommend for that person")
    .option("--rate <movie=rating>", "one rating, e.g. --rate 50=5 (repeat the flag)", parseRate)
    .option("--all-users", "every user's top k, to --out (the nightly batch job)")
    .option(
      "--out <file>",
      "with --all-users: a .csv (user, rank, item, title, score, predicted) or .jsonl file",
    )
    .option("-k, --k <n>", "how many movies", intArg(1, 10000), 10)
    .option(
      "--min-ratings <n>",
      "only recommend movies with at least this many training ratings",
      intArg(0),
      10,
    )
    .option(
      "--json",
      'print {"user", "known", "items": [{"movieId", "title", "year", "genres", "score", "predicted"}]} last',
    )
    .addOption(kernelsOption())
    .addHelpText(
      "after",
      `
Movies the person rated are never recommended, nor movies with fewer than --min-ratings training ratings
(their predictions rest on one or two opinions). A --user the model does not know is an error. With --rate or
--ratings the model scores someone new without retraining: EASE sums the item weights of his positives,
Mult-DAE/VAE and user-based models encode his ratings, autorec-i fits only his output weights (a ridge
regression on the rated movies' codes). "score" is what ranked a movie; "predicted" is the rating model's
stars (the model itself, the one saved beside a top-N model by train --rater, or --rating-model-file), or
null when there is none.

Examples:
  aerec recommend --model-file ease.safetensors --user 1
  aerec recommend --model-file ease.safetensors --rate 50=5 --rate 172=4 --rate 181=5 --json
  aerec recommend --model-file ease.safetensors --rating-model-file autorec.safetensors --user 1
  aerec recommend --model-file ease.safetensors --all-users -k 20 --out recs.csv`,
    )
    .action((opts: RecommendFlags) => runRecommend(opts));

  program
    .command("similar")
    .description("movies most similar to a movie by the model's learned representations")
    .requiredOption("--model-file <file>", "a model saved by aerec train --save")
    .requiredOption("--movie <id>", "a movie id", rawIdArg)
    .option("-k, --k <n>", "how many movies", intArg(1, 10000), 10)
    .option("--min-ratings <n>", "only list movies with at least this many training ratings", intArg(0), 10)
    .option(
      "--json",
      'print {"movie", "items": [{"movieId", "title", "year", "genres", "score", "predicted"}]} as the last line',
    )
    .addOption(kernelsOption())
    .action(async (opts: SimilarFlags) => {
      const { recommender } = await openRecommender(opts.modelFile, opts.kernels, opts.minRatings);
      const items = recommender.similar(opts.movie, opts.k);
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ movie: opts.movie, items: jsonItems(items) })}\n`);
      else printMovies(items, `movies most like movie ${opts.movie} (cosine similarity):`, (m) => m.score);
    });
}
