/** How a ratings file separates its fields. */
export type RatingsFormat = "tab" | "double-colon" | "csv";
/** Which movie file layout a data set uses. */
export type MoviesFormat = "u.item" | "dat" | "csv";

/** The ratings a data set allows: min..max in steps of `step`. */
export interface RatingScale {
  min: number;
  max: number;
  step: number;
}

/** What aerec knows about one MovieLens release. */
export interface DatasetInfo {
  name: DatasetName;
  /** Base name of the GroupLens zip (without .zip). */
  archive: string;
  /** Folder names accepted under the data folder, the archive's own first. */
  folders: string[];
  ratingsFile: string;
  ratingsFormat: RatingsFormat;
  moviesFile: string;
  moviesFormat: MoviesFormat;
  usersFile?: string;
  scale: RatingScale;
  /** Predefined train/test splits shipped with the data set. */
  predefinedSplits: string[];
}

const STARS: RatingScale = { min: 1, max: 5, step: 1 };
const HALF_STARS: RatingScale = { min: 0.5, max: 5, step: 0.5 };

function csvFamily(name: DatasetName): DatasetInfo {
  return {
    name,
    archive: name,
    folders: [name],
    ratingsFile: "ratings.csv",
    ratingsFormat: "csv",
    moviesFile: "movies.csv",
    moviesFormat: "csv",
    scale: HALF_STARS,
    predefinedSplits: [],
  };
}

/** The MovieLens releases aerec reads, by the names the CLI takes. */
export const DATASET_NAMES = [
  "ml-100k",
  "ml-1m",
  "ml-10m",
  "ml-20m",
  "ml-25m",
  "ml-32m",
  "ml-latest",
  "ml-latest-small",
] as const;
/** One of DATASET_NAMES. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Every MovieLens release aerec reads, by name. */
export const DATASETS: Record<DatasetName, DatasetInfo> = {
  "ml-100k": {
    name: "ml-100k",
    archive: "ml-100k",
    folders: ["ml-100k"],
    ratingsFile: "u.data",
    ratingsFormat: "tab",
    moviesFile: "u.item",
    moviesFormat: "u.item",
    usersFile: "u.user",
    scale: STARS,
    predefinedSplits: ["u1", "u2", "u3", "u4", "u5", "ua", "ub"],
  },
  "ml-1m": {
    name: "ml-1m",
    archive: "ml-1m",
    folders: ["ml-1m"],
    ratingsFile: "ratings.dat",
    ratingsFormat: "double-colon",
    moviesFile: "movies.dat",
    moviesFormat: "dat",
    usersFile: "users.dat",
    scale: STARS,
    predefinedSplits: [],
  },
  "ml-10m": {
    name: "ml-10m",
    archive: "ml-10m",
    folders: ["ml-10M100K", "ml-10m"],
    ratingsFile: "ratings.dat",
    ratingsFormat: "double-colon",
    moviesFile: "movies.dat",
    moviesFormat: "dat",
    scale: HALF_STARS,
    predefinedSplits: [],
  },
  "ml-20m": csvFamily("ml-20m"),
  "ml-25m": csvFamily("ml-25m"),
  "ml-32m": csvFamily("ml-32m"),
  "ml-latest": csvFamily("ml-latest"),
  "ml-latest-small": csvFamily("ml-latest-small"),
};

/** The registry entry for `name`, or an error listing the names aerec knows. */
export function datasetInfo(name: string): DatasetInfo {
  if (!(DATASET_NAMES as readonly string[]).includes(name)) {
    throw new Error(
      `unknown dataset "${name}": choose one of ${DATASET_NAMES.join(", ")}, or synthetic:ml-1m, synthetic:ml-32m, ` +
        "synthetic:users=U,items=I,ratings=N",
    );
  }
  return DATASETS[name as DatasetName];
}

/** The 1..5 star scale that aerec's default thresholds (positives and relevant ratings from 4) are set on. */
export const STAR_SCALE: RatingScale = STARS;

/**
 * The rating on `scale` at the place `stars` has on the 1..5 star scale, rounded up to a step: 4 stars is 4
 * on half stars, 8 on 1..10, 1 on implicit data (every rating 1). 0 ("every rating") stays 0.
 */
export function scaledRating(stars: number, scale: RatingScale): number {
  if (stars <= 0) return stars;
  const { min, max, step } = scale;
  const steps = Math.ceil(((stars - 1) / 4) * ((max - min) / step) - 1e-9);
  return Math.min(max, Number((min + steps * step).toFixed(10)));
}

/** A test rating at least this is relevant to the ranking metrics by default: 4 stars, moved to `scale`. */
export function relevantFrom(scale: RatingScale): number {
  return scaledRating(4, scale);
}
