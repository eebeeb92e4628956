import type { MoviesFormat } from "./datasets.js";
import { DataFormatError } from "./errors.js";
import type { RawId } from "./ratings.js";
import { parseCsv, readTextFile, splitLines } from "./text.js";

/** A movie as the data set describes it. */
export interface Movie {
  id: RawId;
  title: string;
  /** Release year from the title's "(YYYY)" (or ML-100K's release date); null when absent. */
  year: number | null;
  genres: string[];
}

/** A user's demographics, where the data set has them (ML-100K and ML-1M). */
export interface UserInfo {
  id: number;
  gender: string;
  /** Age in years (ML-100K) or ML-1M's age-group code. */
  age: number;
  occupation: string;
  zip: string;
}

/** ML-100K's u.genre order; u.item's 19 flags follow it. */
const ML100K_GENRES = [
  "unknown",
  "Action",
  "Adventure",
  "Animation",
  "Children's",
  "Comedy",
  "Crime",
  "Documentary",
  "Drama",
  "Fantasy",
  "Film-Noir",
  "Horror",
  "Musical",
  "Mystery",
  "Romance",
  "Sci-Fi",
  "Thriller",
  "War",
  "Western",
];

function positiveId(text: string, file: string, line: number, what: string): number {
  const id = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(id >= 1))
    throw new DataFormatError(file, line, `${what} ${JSON.stringify(text)} is not a positive integer`);
  return id;
}

/** The release year a title ends with, "Heat (1995)", or null. */
export function titleYear(title: string): number | null {
  const m = /\((\d{4})(?:[-–]\d{0,4})?\)\s*$/.exec(title);
  return m ? Number(m[1]) : null;
}

/** Reads a movie file (u.item, movies.dat or movies.csv) into a map from raw movie id to Movie. */
export async function parseMovies(file: string, format: MoviesFormat): Promise<Map<RawId, Movie>> {
  const text = await readTextFile(file);
  const movies = new Map<RawId, Movie>();
  const add = (line: number, movie: Movie) => {
    if (movies.has(movie.id)) throw new DataFormatError(file, line, `movie id ${movie.id} appears twice`);
    movies.set(movie.id, movie);
  };
  if (format === "csv") {
    const fail = (line: number, why: string): never => {
      throw new DataFormatError(file, line, why);
    };
    const records = parseCsv(text, fail);
    const header = records[0]?.fields.join(",").replace(/^\uFEFF/, "");
    if (header !== "movieId,title,genres") fail(1, `expected the header "movieId,title,genres"`);
    for (const { line, fields } of records.slice(1)) {
      if (fields.length !== 3)
        fail(line, `expected 3 fields (movieId, title, genres), found ${fields.length}`);
      add(line, titledMovie(fields, file, line));
    }
    return movies;
  }
  splitLines(text).forEach((raw, i) => {
    const line = i + 1;
    if (raw === "") return;
    if (format === "dat") {
      const fields = raw.split("::");
      if (fields.length !== 3) {
        throw new DataFormatError(
          file,
          line,
          `expected 3 fields (MovieID::Title::Genres), found ${fields.length}`,
        );
      }
      add(line, titledMovie(fields, file, line));
      return;
    }
    const fields = raw.split("|");
    if (fields.length !== 5 + ML100K_GENRES.length) {
      throw new DataFormatError(file, line, `expected 24 '|'-separated fields, found ${fields.length}`);
    }
    const title = fields[1].trim();
    const flags = fields.slice(5);
    if (flags.some((f) => f !== "0" && f !== "1"))
      throw new DataFormatError(file, line, "genre flags must be 0 or 1");
    const released = /(\d{4})$/.exec(fields[2]);
    add(line, {
      id: positiveId(fields[0], file, line, "movie id"),
      title,
      year: titleYear(title) ?? (released ? Number(released[1]) : null),
      genres: ML100K_GENRES.filter((_, g) => flags[g] === "1"),
    });
  });
  return movies;
}

/** A movie from [id, "Title (Year)", "Genre|Genre"] (movies.dat and movies.csv). */
function titledMovie(fields: string[], file: string, line: number): Movie {
  const title = fields[1].trim();
  return {
    id: positiveId(fields[0], file, line, "movie id"),
    title,
    year: titleYear(title),
    genres: genreList(fields[2]),
  };
}

function genreList(text: string): string[] {
  const genres = text.trim();
  return genres === "" || genres === "(no genres listed)" ? [] : genres.split("|");
}

/** Reads u.user (`id|age|gender|occupation|zip`) or users.dat (`id::gender::age::occupation::zip`). */
export async function parseUsers(file: string): Promise<Map<number, UserInfo>> {
  const text = await readTextFile(file);
  const dat = file.endsWith(".dat");
  const users = new Map<number, UserInfo>();
  splitLines(text).forEach((raw, i) => {
    if (raw === "") return;
    const f = raw.split(dat ? "::" : "|");
    if (f.length !== 5) throw new DataFormatError(file, i + 1, `expected 5 fields, found ${f.length}`);
    const id = positiveId(f[0], file, i + 1, "user id");
    const [age, gender] = dat ? [f[2], f[1]] : [f[1], f[2]];
    users.set(id, { id, gender, age: Number(age), occupation: f[3], zip: f[4] });
  });
  return users;
}
