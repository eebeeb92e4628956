import { basename } from "node:path";
import type { RatingScale } from "./datasets.js";
import {
  type CodedRatings,
  codedIdMap,
  type DelimitedOptions,
  describeFormat,
  detectSeparator,
  IdInterner,
  inferScale,
  normalName,
  readCodedRatings,
  SNIFF_LINES,
  sniffFormat,
  splitFields,
} from "./delimited.js";
import { DataFormatError } from "./errors.js";
import { recordLine } from "./lines.js";
import { applySplit, type DataOptions, type LoadedData } from "./load.js";
import { type Movie, titleYear } from "./movies.js";
import { findDuplicate, type IdMap, Ratings, type RawId, repeatedPairs } from "./ratings.js";
import { readTextFile, splitLines } from "./text.js";

/** Your own files: one ratings file to split, or fixed train and test files; item titles optionally. */
export interface FileSource extends DelimitedOptions {
  /** One file of every rating, split as DataOptions.split says (default ratio:0.9). */
  ratings?: string;
  /** A fixed training file (with `test`), e.g. a published split. */
  train?: string;
  test?: string;
  /** Item metadata: a delimited file of id, title and (optionally) genres. */
  items?: string;
  /** The item file's id, title[, genres] columns: header names or 1-based positions (default: found by name, else 1,2,3). */
  itemColumns?: string[];
}

const IMPLICIT_SCALE: RatingScale = { min: 1, max: 1, step: 1 };

/**
 * Loads ratings (or interactions) from your own delimited files: ids may be any text, the layout and the
 * scale are inferred where not given (and said in `notes`), gzip files are read as streams. Explicit ratings
 * may rate a (user, item) pair once; in implicit data a repeated pair counts once.
 */
export async function loadFiles(source: FileSource, options: DataOptions = {}): Promise<LoadedData> {
  const files = ratingFiles(source, options);
  const interned = { users: new IdInterner(), items: new IdInterner() };
  const parts: CodedRatings[] = [];
  const notes: string[] = [];
  for (const file of files) {
    const format = await sniffFormat(file, { ...source, sep: source.sep ?? parts[0]?.format.sep });
    if (parts.length > 0 && format.implicit !== parts[0].format.implicit) {
      throw new DataFormatError(
        file,
        1,
        `has ${format.implicit ? "no" : "a"} rating column, unlike ${files[0]}`,
      );
    }
    notes.push(`${file}: ${describeFormat(format)}`);
    parts.push(
      await readCodedRatings(file, format, interned, source.scale, (read, total) =>
        options.onProgress?.(file, read, total),
      ),
    );
  }
  const implicit = parts[0].format.implicit;
  const scale = implicit ? IMPLICIT_SCALE : (source.scale ?? inferScale(concatValues(parts)));
  if (!implicit && !source.scale)
    notes.push(
      `rating scale ${scale.min}..${scale.max} in steps of ${scale.step} (inferred: pass --scale MIN:MAX[:STEP] to set it)`,
    );
  const users = codedIdMap(
    parts.map((p) => p.users),
    interned.users,
  );
  const items = codedIdMap(
    parts.map((p) => p.items),
    interned.items,
  );
  const indices = (codes: Int32Array, indexOf: (code: number) => number) => {
    const out = new Int32Array(codes.length);
    for (let k = 0; k < codes.length; k++) out[k] = indexOf(codes[k]);
    return out;
  };
  let ratings = parts.map(
    (p) =>
      new Ratings(
        indices(p.users, users.indexOf),
        indices(p.items, items.indexOf),
        p.values,
        users.ids.size,
        items.ids.size,
        p.times,
      ),
  );
  ratings = await checkRepeats(ratings, parts, users.ids, items.ids, implicit, notes);
  const all = ratings.length === 1 ? ratings[0] : null;
  const split = all ? (options.split ?? "ratio:0.9") : "files";
  const trainTest = all
    ? applySplit(all, split, options.seed ?? 1, files[0])
    : { train: ratings[0], test: ratings[1] };
  const movies = source.items ? await readItems(source.items, source.itemColumns, items.ids) : new Map();
  return {
    dataset: `file:${files.map((f) => basename(f)).join("+")}`,
    split,
    scale,
    userIds: users.ids,
    itemIds: items.ids,
    movies,
    users: new Map(),
    ...trainTest,
    files,
    implicit,
    notes,
  };
}

function ratingFiles(source: FileSource, options: DataOptions): string[] {
  if (source.ratings && (source.train || source.test))
    throw new Error("give either --ratings FILE (split by --split) or --train FILE --test FILE, not both");
  if (source.ratings) return [source.ratings];
  if (!source.train || !source.test) throw new Error("--train and --test go together: give both files");
  if (options.split)
    throw new Error(`--split ${options.split} splits one --ratings file; --train and --test are the split`);
  return [source.train, source.test];
}

function concatValues(parts: CodedRatings[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.values.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.values, at);
    at += p.values.length;
  }
  return out;
}

/**
 * Explicit ratings: a (user, item) pair rated twice, in one file or across train and test, is an error
 * naming both lines. Implicit data: repeats (several plays of one song) count once, the first kept.
 */
async function checkRepeats(
  ratings: Ratings[],
  parts: CodedRatings[],
  userIds: IdMap,
  itemIds: IdMap,
  implicit: boolean,
  notes: string[],
): Promise<Ratings[]> {
  const all = ratings.length === 1 ? ratings[0] : ratings[0].concat(ratings[1]);
  const dup = findDuplicate(all.byUser());
  if (!dup) return ratings;
  if (!implicit) {
    const places: { file: string; line: number }[] = [];
    for (const [p, r] of ratings.entries()) {
      for (let k = 0; k < r.size && places.length < 2; k++) {
        if (r.users[k] === dup.row && r.items[k] === dup.col) {
          const { file, format } = parts[p];
          places.push({ file, line: await recordLine(file, format.header, k) });
        }
      }
    }
    const [first, second] = places;
    throw new DataFormatError(
      second.file,
      second.line,
      `user ${JSON.stringify(userIds.idAt(dup.row))} rates item ${JSON.stringify(itemIds.idAt(dup.col))} twice (also at ${first.file}:${first.line}); each pair may appear once`,
    );
  }
  const repeated = repeatedPairs(all.users, all.items, all.nUsers, all.nItems);
  let repeats = 0;
  let offset = 0;
  const kept = ratings.map((r) => {
    const positions: number[] = [];
    for (let k = 0; k < r.size; k++) {
      if (repeated[offset + k]) repeats++;
      else positions.push(k);
    }
    offset += r.size;
    return r.select(positions);
  });
  notes.push(`${repeats} repeated (user, item) pairs counted once`);
  return kept;
}

const ITEM_NAMES = {
  id: ["id", "item", "itemid", "movie", "movieid", "product", "productid", "isbn", "asin"],
  title: ["title", "name", "itemname", "movietitle", "booktitle"],
  genres: ["genres", "genre", "categories", "category", "tags"],
};

/**
 * Titles (and genres) of the known items from a delimited item file: columns id, title[, genres] by
 * `columns` (names or 1-based positions) or found by name in a header; genres separated by "|" (by "," when
 * "|" separates the fields). Items the ratings do not name are skipped.
 */
export async function readItems(
  file: string,
  columns: string[] | undefined,
  itemIds: IdMap,
): Promise<Map<RawId, Movie>> {
  const lines = splitLines(await readTextFile(file))
    .map((text, i) => ({ text, line: i + 1 }))
    .filter((l) => l.text.trim() !== "");
  if (lines.length === 0) throw new DataFormatError(file, 0, "the file has no lines");
  const sep = detectSeparator(
    file,
    lines.slice(0, SNIFF_LINES).map((l) => l.text),
  );
  const first = splitFields(lines[0].text, sep).map((f) => f.trim());
  const byName = (names: string[]) => first.findIndex((f) => names.includes(normalName(f)));
  const named = columns?.some((c) => !/^\d+$/.test(c)) ?? false;
  const header = named || byName(ITEM_NAMES.id) >= 0 || byName(ITEM_NAMES.title) >= 0;
  let at: number[];
  if (columns) {
    at = columns.map((c) => (/^\d+$/.test(c) ? Number(c) - 1 : first.indexOf(c)));
    const bad = at.findIndex((a) => a < 0 || a >= first.length);
    if (bad >= 0)
      throw new DataFormatError(
        file,
        1,
        `no column ${JSON.stringify(columns[bad])} (lines have ${first.length} fields${header ? `: ${first.join(", ")}` : ""})`,
      );
  } else if (header) {
    const id = byName(ITEM_NAMES.id);
    // Else the first "...id" column (book_id).
    at = [
      id >= 0 ? id : first.findIndex((f) => normalName(f).endsWith("id")),
      byName(ITEM_NAMES.title),
      byName(ITEM_NAMES.genres),
    ];
    if (at[0] < 0 || at[1] < 0)
      throw new DataFormatError(
        file,
        1,
        `could not tell the id and title columns from the header ${first.join(", ")}: pass --item-columns ID,TITLE[,GENRES]`,
      );
  } else at = [0, 1, first.length > 2 ? 2 : -1];
  const genreSep = sep === "|" ? "," : "|";
  const movies = new Map<RawId, Movie>();
  for (const { text, line } of header ? lines.slice(1) : lines) {
    const fields = splitFields(text, sep);
    if (fields.length !== first.length)
      throw new DataFormatError(file, line, `expected ${first.length} fields, found ${fields.length}`);
    const index = itemIds.indexOf(fields[at[0]].trim());
    if (index < 0) continue;
    const id = itemIds.idAt(index);
    if (movies.has(id)) throw new DataFormatError(file, line, `item ${JSON.stringify(id)} appears twice`);
    const title = fields[at[1]].trim();
    const genres =
      at[2] >= 0
        ? fields[at[2]]
            .split(genreSep)
            .map((g) => g.trim())
            .filter(Boolean)
        : [];
    movies.set(id, { id, title, year: titleYear(title), genres });
  }
  return movies;
}

/**
 * Loads one ratings (or interactions) file and splits it: `loadFiles({ ratings: file, ...options }, options)`.
 *
 * @example
 * ```ts
 * const data = await loadRatingsFile("ratings.csv", { split: "time:0.9", items: "items.csv" });
 * ```
 */
export function loadRatingsFile(
  file: string,
  options: Omit<FileSource, "ratings" | "train" | "test"> & DataOptions = {},
): Promise<LoadedData> {
  return loadFiles({ ...options, ratings: file }, options);
}
