import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  type DatasetInfo,
  datasetInfo,
  type RatingScale,
  type RatingsFormat,
  STAR_SCALE,
} from "./datasets.js";
import { DataFormatError, DataNotFoundError } from "./errors.js";
import { recordLine } from "./lines.js";
import { type Movie, parseMovies, parseUsers, type UserInfo } from "./movies.js";
import { parseRatingsFile, type RawRatings } from "./parse-ratings.js";
import { findDuplicate, IdMap, Ratings, type RawId } from "./ratings.js";
import { kfoldSplit, parseSplit, ratioSplit, timeSplit } from "./splits.js";
import { generateRatings, parseSyntheticShape } from "./synthetic.js";

/** Where to read data from and how to split it. */
export interface DataOptions {
  /** Folder holding `<dataset>/` folders; defaults to $MOVIELENS_DIR, then the download cache. */
  dataDir?: string;
  /** Split name (see parseSplit); default `u1` for ML-100K, `ratio:0.9` otherwise. */
  split?: string;
  /** Seed of random splits and synthetic data. */
  seed?: number;
  /** Told as each ratings file streams in: bytes read of its size. */
  onProgress?: (file: string, read: number, total: number) => void;
}

/** A data set loaded and split: train and test share one dense index space. */
export interface LoadedData {
  dataset: string;
  split: string;
  scale: RatingScale;
  userIds: IdMap;
  itemIds: IdMap;
  /** Movie metadata by raw movie id (empty for synthetic data). */
  movies: Map<RawId, Movie>;
  /** User demographics by raw user id, where the data set has them. */
  users: Map<number, UserInfo>;
  train: Ratings;
  test: Ratings;
  /** The rating files read. */
  files: string[];
  /** True when the data are interactions without ratings (every one a positive): top-N models only. */
  implicit: boolean;
  /** What was inferred or changed while loading (a file's layout, its scale), for the log. */
  notes: string[];
}

/** aerec's download cache: $XDG_CACHE_HOME/aerec, else ~/.cache/aerec. */
export function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "aerec");
}

/** The folders searched for data sets, in order: the one given (or $MOVIELENS_DIR), then the cache. */
export function dataDirs(dataDir?: string): string[] {
  const first = dataDir ?? process.env.MOVIELENS_DIR;
  return [...(first ? [first] : []), cacheDir()];
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/** The folder that holds `info`'s files, or a DataNotFoundError that says where it looked and what to do. */
export async function findDatasetFolder(info: DatasetInfo, dataDir?: string): Promise<string> {
  const looked: string[] = [];
  // ML-100K's split files are enough without u.data.
  const markers = [info.ratingsFile, ...info.predefinedSplits.map((s) => `${s}.base`)];
  for (const dir of dataDirs(dataDir)) {
    for (const candidate of [...info.folders.map((f) => join(dir, f)), dir]) {
      looked.push(candidate);
      for (const marker of markers) if (await isFile(join(candidate, marker))) return candidate;
    }
  }
  throw new DataNotFoundError(
    `${info.name} not found (looked for ${info.ratingsFile} in ${looked.join(", ")}). ` +
      `Run "aerec download ${info.name}", or unzip ${info.archive}.zip from GroupLens into a folder and pass ` +
      "--data-dir FOLDER or set MOVIELENS_DIR=FOLDER (the folder that holds the data set's own folder).",
  );
}

/** Loads `dataset` (a MovieLens name or `synthetic:SHAPE`) and splits it into train and test. */
export async function loadData(dataset: string, options: DataOptions = {}): Promise<LoadedData> {
  const seed = options.seed ?? 1;
  if (dataset.startsWith("synthetic:")) {
    const shape = parseSyntheticShape(dataset.slice("synthetic:".length));
    const all = generateRatings({ ...shape, seed: shape.seed + seed - 1 });
    const split = options.split ?? "ratio:0.9";
    const ids = (n: number) => IdMap.of(Int32Array.from({ length: n }, (_, i) => i + 1));
    return {
      dataset,
      split,
      scale: STAR_SCALE,
      userIds: ids(all.nUsers),
      itemIds: ids(all.nItems),
      movies: new Map(),
      users: new Map(),
      ...applySplit(all, split, seed, dataset),
      files: [],
      implicit: false,
      notes: [],
    };
  }
  const info = datasetInfo(dataset);
  const folder = await findDatasetFolder(info, options.dataDir);
  const split = options.split ?? (info.predefinedSplits.length > 0 ? info.predefinedSplits[0] : "ratio:0.9");
  const spec = parseSplit(split);
  if (spec.kind === "predefined" && !info.predefinedSplits.includes(spec.name)) {
    throw new Error(`${dataset} has no predefined split "${split}": use ratio:0.9 or kfold:5:1`);
  }
  const files =
    spec.kind === "predefined"
      ? [join(folder, `${spec.name}.base`), join(folder, `${spec.name}.test`)]
      : [join(folder, info.ratingsFile)];
  const parts = await Promise.all(
    files.map((f) =>
      parseRatingsFile(f, info.ratingsFormat, info.scale, (read, total) =>
        options.onProgress?.(f, read, total),
      ),
    ),
  );
  const { userIds, itemIds, ratings } = await indexRatings(parts, info.ratingsFormat);
  const [movies, users] = await Promise.all([
    parseMovies(join(folder, info.moviesFile), info.moviesFormat),
    info.usersFile ? parseUsers(join(folder, info.usersFile)) : new Map<number, UserInfo>(),
  ]);
  const trainTest =
    spec.kind === "predefined"
      ? { train: ratings[0], test: ratings[1] }
      : applySplit(ratings[0], split, seed, dataset);
  return {
    dataset,
    split,
    scale: info.scale,
    userIds,
    itemIds,
    movies,
    users,
    ...trainTest,
    files,
    implicit: false,
    notes: [],
  };
}

export function applySplit(all: Ratings, split: string, seed: number, dataset: string) {
  const spec = parseSplit(split);
  if (spec.kind === "ratio") return ratioSplit(all, spec.trainFraction, seed);
  if (spec.kind === "kfold") return kfoldSplit(all, spec.k, spec.fold, seed);
  if (spec.kind === "time") return timeSplit(all, spec.trainFraction, spec.perUser);
  throw new Error(`${dataset} has no predefined split "${split}": use ratio:0.9 or kfold:5:1`);
}

/**
 * Maps raw ids of every part into one dense index space and checks that no (user, movie) pair is rated
 * twice, within a file or across files (which would leak test ratings into training).
 */
async function indexRatings(parts: RawRatings[], format: RatingsFormat) {
  const userIds = IdMap.of(...parts.map((p) => p.userIds));
  const itemIds = IdMap.of(...parts.map((p) => p.itemIds));
  const ratings = parts.map(
    (p) =>
      new Ratings(
        userIds.indicesOf(p.userIds),
        itemIds.indicesOf(p.itemIds),
        p.values,
        userIds.size,
        itemIds.size,
        p.timestamps,
      ),
  );
  const all =
    ratings.length === 1
      ? ratings[0]
      : new Ratings(
          concat(
            Int32Array,
            ratings.map((r) => r.users),
          ),
          concat(
            Int32Array,
            ratings.map((r) => r.items),
          ),
          concat(
            Float32Array,
            ratings.map((r) => r.values),
          ),
          userIds.size,
          itemIds.size,
        );
  const dup = findDuplicate(all.byUser());
  if (dup) {
    const user = userIds.ids[dup.row];
    const movie = itemIds.ids[dup.col];
    const places: { file: string; line: number }[] = [];
    for (const p of parts) {
      for (let i = 0; i < p.userIds.length; i++) {
        if (p.userIds[i] === user && p.itemIds[i] === movie)
          places.push({ file: p.file, line: await recordLine(p.file, format === "csv", i) });
      }
    }
    const [first, second] = places;
    throw new DataFormatError(
      second.file,
      second.line,
      `user ${user} rates movie ${movie} twice (also at ${first.file}:${first.line}); each pair may appear once`,
    );
  }
  return { userIds, itemIds, ratings };
}

function concat<T extends Int32Array | Float32Array>(ctor: new (n: number) => T, arrays: T[]): T {
  const out = new ctor(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    (out as Int32Array).set(a as Int32Array, at);
    at += a.length;
  }
  return out;
}
