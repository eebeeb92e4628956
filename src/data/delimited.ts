import type { RatingScale } from "./datasets.js";
import { DataFormatError } from "./errors.js";
import { GrowableArray } from "./growable.js";
import { forEachLine, isBlank, lineText } from "./lines.js";
import { onScale, parseDecimal } from "./parse-ratings.js";
import { compareRawIds, IdMap, type RawId, rawIdOf } from "./ratings.js";
import type { ReadProgress } from "./read-progress.js";

/** How to read a delimited file of ratings or interactions; whatever is left out is inferred from the file. */
export interface DelimitedOptions {
  /** The field separator: tab, ",", "::", ";", "|" or any other text; detected from the first lines when absent. */
  sep?: string;
  /**
   * The columns that hold the user, the item and (optionally) the rating and the timestamp, in that order:
   * names from the header, or 1-based positions. Absent: found by name in a header (userId, item_id,
   * rating, timestamp, ...), else the first two, three or four fields.
   */
  columns?: string[];
  /** Whether the first line names the columns; detected when absent. */
  header?: boolean;
  /** The ratings allowed; inferred from the data (lowest, highest and finest step) when absent. */
  scale?: RatingScale;
  /** Read every line as a positive, ignoring any rating column (a file without one is implicit anyway). */
  implicit?: boolean;
}

/** How a file was read: what was given and what was inferred, to be printed. */
export interface DelimitedFormat {
  sep: string;
  header: boolean;
  /** Fields per line. */
  fields: number;
  /** 0-based positions of each role, -1 where the file has none. */
  columns: Record<ColumnRole, number>;
  /** The header's names, or null. */
  names: string[] | null;
  implicit: boolean;
}

/** What a column of a ratings file holds. */
export type ColumnRole = "user" | "item" | "rating" | "timestamp";
const ROLES: ColumnRole[] = ["user", "item", "rating", "timestamp"];

/** The header names each role is recognised by (compared in lower case, without "_", "-" and spaces). */
const KNOWN_NAMES: Record<ColumnRole, string[]> = {
  user: [
    "user",
    "userid",
    "uid",
    "users",
    "customer",
    "customerid",
    "visitor",
    "visitorid",
    "member",
    "reviewer",
  ],
  item: [
    "item",
    "itemid",
    "iid",
    "items",
    "movie",
    "movieid",
    "product",
    "productid",
    "book",
    "isbn",
    "asin",
    "track",
  ],
  rating: ["rating", "ratings", "score", "stars", "value", "preference", "bookrating"],
  timestamp: ["timestamp", "time", "ts", "when", "date", "datetime", "unixtime", "unixreviewtime"],
};

/** Name starts that mark a user column when no name matches exactly. */
const USER_PREFIXES = [
  "user",
  "customer",
  "reader",
  "member",
  "visitor",
  "reviewer",
  "client",
  "buyer",
  "person",
];

/** Separators tried, in order, when none is given. */
const SEPARATORS = ["::", "\t", ",", ";", "|"];

/** Lines read to detect the separator and the header. */
export const SNIFF_LINES = 50;

/**
 * A ratings file's contents in file order. Ids are coded: a plain integer id below 10^9 is stored as
 * itself (no string is made for it, which keeps MovieLens-sized files fast), any other id as -(k + 1) for the
 * k-th distinct one in `interned`.
 */
export interface CodedRatings {
  file: string;
  format: DelimitedFormat;
  users: Int32Array;
  items: Int32Array;
  values: Float32Array;
  times?: Float64Array;
}

/** Ids other than small plain integers, each coded once (see CodedRatings). */
export class IdInterner {
  readonly ids: RawId[] = [];
  private readonly codes = new Map<RawId, number>();

  /** The code of `id`: -(k + 1) for the k-th distinct one. */
  code(id: RawId): number {
    let k = this.codes.get(id);
    if (k === undefined) {
      k = this.ids.push(id) - 1;
      this.codes.set(id, k);
    }
    return -(k + 1);
  }

  /** The raw id a code stands for: a plain integer itself, or the interned id. */
  idOf(code: number): RawId {
    return code >= 0 ? code : this.ids[-code - 1];
  }
}

const QUOTE = 34;
const SPACE = 32;
const UNIT_SEPARATOR = "\x1f";
const LARGEST_PLAIN = 9;

/** A header name as it is compared: lower case, without spaces, "_" and "-". */
export function normalName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]/g, "");
}

function isNumber(text: string): boolean {
  return text.trim() !== "" && Number.isFinite(Number(text));
}

/** Splits one line at `sep`, honouring double quotes (RFC 4180) when sep is one character. */
export function splitFields(line: string, sep: string): string[] {
  if (sep.length !== 1 || !line.includes('"')) return line.split(sep);
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim() === "") {
      quoted = true;
      field = "";
    } else if (c === sep) {
      fields.push(field);
      field = "";
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** The first non-blank lines of `file` (at most `n`), with their line numbers. */
export async function firstLines(file: string, n: number): Promise<{ line: number; text: string }[]> {
  const lines: { line: number; text: string }[] = [];
  await forEachLine(file, (buf, start, end, line) => {
    if (!isBlank(buf, start, end)) lines.push({ line, text: buf.toString("utf8", start, end) });
    return lines.length >= n;
  });
  return lines;
}

/**
 * The first separator that splits the first line into two or more fields and most sampled lines into as
 * many (a line that differs is then reported by the reader, with its number).
 */
export function detectSeparator(file: string, lines: string[]): string {
  for (const sep of SEPARATORS) {
    const counts = lines.map((l) => splitFields(l, sep).length);
    if (counts[0] >= 2 && counts.filter((c) => c === counts[0]).length * 2 > counts.length) return sep;
  }
  throw new DataFormatError(
    file,
    0,
    "could not tell how fields are separated (tried ::, tab, comma, ; and |, looking for the same number of " +
      'fields on most lines): pass --sep, e.g. --sep "," or --sep tab',
  );
}

/** Reads `--sep` text: "tab", "comma", "\t" as words or as themselves. */
export function separatorOf(text: string): string {
  const named: Record<string, string> = {
    tab: "\t",
    "\\t": "\t",
    comma: ",",
    semicolon: ";",
    pipe: "|",
    space: " ",
  };
  return named[text] ?? text;
}

/** Works out a file's layout from its first lines and the options. */
export async function sniffFormat(file: string, options: DelimitedOptions): Promise<DelimitedFormat> {
  const sample = await firstLines(file, SNIFF_LINES);
  if (sample.length === 0) throw new DataFormatError(file, 0, "the file has no lines (only blank ones)");
  const sep =
    options.sep ??
    detectSeparator(
      file,
      sample.map((s) => s.text),
    );
  const rows = sample.map((s) => splitFields(s.text, sep).map((f) => f.trim()));
  const givenNames = options.columns?.some((c) => !/^\d+$/.test(c)) ?? false;
  const header = options.header ?? (givenNames || looksLikeHeader(rows));
  if (!header && givenNames) {
    throw new DataFormatError(
      file,
      1,
      `--columns ${options.columns!.join(",")} names columns, but the file has no header: give 1-based positions, e.g. --columns 1,2,3`,
    );
  }
  const names = header ? rows[0] : null;
  const fields = rows[0].length;
  const columns = resolveColumns(file, names, rows.slice(header ? 1 : 0), fields, options.columns);
  if (options.implicit) columns.rating = -1;
  return { sep, header, fields, columns, names, implicit: columns.rating < 0 };
}

/** A first line is a header when a column that is numeric below it is not numeric in it, or its names are known. */
function looksLikeHeader(rows: string[][]): boolean {
  if (rows.length < 2) return rows[0].every((f) => !isNumber(f)) && knownRoles(rows[0]) >= 2;
  const numericBelow = rows[0].map((_, c) => rows.slice(1).every((r) => isNumber(r[c] ?? "")));
  if (rows[0].some((f, c) => numericBelow[c] && !isNumber(f))) return true;
  return knownRoles(rows[0]) >= 2 && rows[0].every((f) => !isNumber(f));
}

function knownRoles(names: string[]): number {
  return ROLES.filter((role) => names.some((n) => KNOWN_NAMES[role].includes(normalName(n)))).length;
}

function resolveColumns(
  file: string,
  names: string[] | null,
  dataRows: string[][],
  fields: number,
  given: string[] | undefined,
): Record<ColumnRole, number> {
  const columns: Record<ColumnRole, number> = { user: -1, item: -1, rating: -1, timestamp: -1 };
  const shown = names
    ? `the header has ${names.map((n) => JSON.stringify(n)).join(", ")}`
    : `lines have ${fields} fields`;
  if (given) {
    if (given.length < 2 || given.length > 4)
      throw new Error("--columns takes 2 to 4 columns: user,item[,rating[,timestamp]]");
    given.forEach((spec, r) => {
      let at: number;
      if (/^\d+$/.test(spec)) at = Number(spec) - 1;
      else {
        at = names!.indexOf(spec);
        if (at < 0) at = names!.findIndex((n) => n.toLowerCase() === spec.toLowerCase());
      }
      if (at < 0 || at >= fields)
        throw new DataFormatError(file, 1, `no column ${JSON.stringify(spec)} for the ${ROLES[r]}: ${shown}`);
      columns[ROLES[r]] = at;
    });
    return columns;
  }
  if (names) {
    const normal = names.map(normalName);
    for (const role of ROLES) columns[role] = normal.findIndex((n) => KNOWN_NAMES[role].includes(n));
    // Else a user-like name (reader_id, customer) and, for the item, another "...id" column (book_id).
    if (columns.user < 0) columns.user = normal.findIndex((n) => USER_PREFIXES.some((p) => n.startsWith(p)));
    if (columns.item < 0) columns.item = normal.findIndex((n, c) => c !== columns.user && n.endsWith("id"));
    if (columns.user < 0 || columns.item < 0) {
      throw new DataFormatError(
        file,
        1,
        `could not tell which columns hold the user and the item (${shown}): pass --columns USER,ITEM[,RATING[,TIMESTAMP]] with the header's names`,
      );
    }
    return columns;
  }
  columns.user = 0;
  columns.item = 1;
  if (fields >= 3) columns.rating = 2;
  if (fields >= 4 && dataRows.every((r) => isNumber(r[3] ?? ""))) columns.timestamp = 3;
  return columns;
}

/** Field boundaries of one line, spaces around each field trimmed (reused from line to line). */
class FieldBounds {
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  count = 0;
  /** Whether the line holds a double quote (its fields may be quoted). */
  quoted = false;

  /** Splits buf[start..end) at `sep` (bytes); false when the line has more than `max` fields. */
  split(buf: Buffer, start: number, end: number, sep: Buffer, max: number): boolean {
    this.count = 0;
    this.quoted = false;
    let fieldStart = start;
    const first = sep[0];
    const width = sep.length;
    for (let i = start; i <= end; i++) {
      const byte = i < end ? buf[i] : -1;
      if (byte === QUOTE) this.quoted = true;
      const atSep = byte === first && (width === 1 || buf.compare(sep, 0, width, i, i + width) === 0);
      if (i === end || atSep) {
        if (this.count === max) return false;
        let s = fieldStart;
        let e = i;
        while (s < e && buf[s] === SPACE) s++;
        while (e > s && buf[e - 1] === SPACE) e--;
        this.starts[this.count] = s;
        this.ends[this.count] = e;
        this.count++;
        if (atSep) i += width - 1;
        fieldStart = i + 1;
      }
    }
    return true;
  }
}

/** The code of the id in buf[s..e) (see CodedRatings); null for an empty field. */
function idCode(buf: Buffer, s: number, e: number, interner: IdInterner): number | null {
  if (s === e) return null;
  if (e - s <= LARGEST_PLAIN && (e - s === 1 || buf[s] !== 48)) {
    const plain = parseDecimal(buf, s, e);
    if (Number.isInteger(plain)) return plain;
  }
  return interner.code(rawIdOf(buf.toString("utf8", s, e)));
}

/** The number in buf[s..e) (ISO 8601 dates too, as seconds, when `dates`); NaN when it is none. */
function numberIn(buf: Buffer, s: number, e: number, dates: boolean): number {
  const fast = parseDecimal(buf, s, e);
  if (!Number.isNaN(fast)) return fast;
  const text = buf.toString("utf8", s, e);
  const x = text.trim() === "" ? Number.NaN : Number(text);
  if (Number.isFinite(x) || !dates) return Number.isFinite(x) ? x : Number.NaN;
  return Date.parse(text) / 1000;
}

/**
 * Reads a delimited ratings file in one streaming pass, in memory proportional to its ratings. Every line
 * must have the layout's field count; ids may be any text (kept exactly, see RawId); a rating must be a
 * number (on `scale` when one is given); a timestamp a number or an ISO 8601 date. Anything else throws a
 * DataFormatError naming the file, line and column.
 */
export async function readCodedRatings(
  file: string,
  format: DelimitedFormat,
  interned: { users: IdInterner; items: IdInterner },
  scale?: RatingScale,
  onBytes?: ReadProgress,
): Promise<CodedRatings> {
  const users = new GrowableArray(Int32Array, 1 << 16);
  const items = new GrowableArray(Int32Array, 1 << 16);
  const values = new GrowableArray(Float32Array, 1 << 16);
  const times = format.columns.timestamp >= 0 ? new GrowableArray(Float64Array, 1 << 16) : null;
  const sep = Buffer.from(format.sep, "utf8");
  const unitSep = Buffer.from(UNIT_SEPARATOR);
  const bounds = new FieldBounds();
  const { user, item, rating, timestamp } = format.columns;
  const columnName = (c: number) => `column ${c + 1}${format.names ? ` (${format.names[c]})` : ""}`;

  await forEachLine(
    file,
    (lineBuf, lineStart, lineEnd, line) => {
      if (isBlank(lineBuf, lineStart, lineEnd) || (format.header && line === 1)) return;
      const fail = (why: string): never => {
        throw new DataFormatError(file, line, `${why} in ${lineText(lineBuf, lineStart, lineEnd)}`);
      };
      let buf = lineBuf;
      let fits = bounds.split(buf, lineStart, lineEnd, sep, format.fields);
      if (bounds.quoted && sep.length === 1) {
        // Quoted fields: unquote them and split the result at a byte no field holds.
        buf = Buffer.from(
          splitFields(buf.toString("utf8", lineStart, lineEnd), format.sep).join(UNIT_SEPARATOR),
        );
        fits = bounds.split(buf, 0, buf.length, unitSep, format.fields);
      }
      if (!fits || bounds.count !== format.fields) {
        fail(
          `expected ${format.fields} fields separated by ${JSON.stringify(format.sep)}, found ${fits ? bounds.count : "more"}`,
        );
      }
      const { starts, ends } = bounds;
      const u = idCode(buf, starts[user], ends[user], interned.users);
      if (u === null) fail(`${columnName(user)}, the user id, is empty`);
      const i = idCode(buf, starts[item], ends[item], interned.items);
      if (i === null) fail(`${columnName(item)}, the item id, is empty`);
      let value = 1;
      if (rating >= 0) {
        value = numberIn(buf, starts[rating], ends[rating], false);
        if (Number.isNaN(value)) {
          fail(
            `${columnName(rating)}, the rating, is not a number: ${lineText(buf, starts[rating], ends[rating])}`,
          );
        }
        if (scale && !onScale(value, scale)) {
          fail(
            `${columnName(rating)}: rating ${value} is not on the scale ${scale.min}..${scale.max} in steps of ${scale.step}`,
          );
        }
      }
      if (times) {
        const t = numberIn(buf, starts[timestamp], ends[timestamp], true);
        if (Number.isNaN(t)) {
          fail(
            `${columnName(timestamp)}, the timestamp, is neither a number nor an ISO 8601 date: ${lineText(buf, starts[timestamp], ends[timestamp])}`,
          );
        }
        times.push(t);
      }
      users.push(u!);
      items.push(i!);
      values.push(value);
    },
    onBytes,
  );
  if (values.length === 0)
    throw new DataFormatError(file, 0, "the file has no ratings (only blank lines, or only the header)");
  return {
    file,
    format,
    users: users.view(),
    items: items.view(),
    values: values.view(),
    times: times?.view(),
  };
}

/** Steps a rating scale is inferred to move in, coarsest first. */
const STEPS = [1, 0.5, 0.25, 0.2, 0.1, 0.05, 0.01, 0.001];

/** The scale of `values`: lowest to highest, in the coarsest step that every value is a whole number of. */
export function inferScale(values: Float32Array): RatingScale {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  // Float32 storage rounds decimals such as 0.1: compare in that precision.
  const fits = (step: number) => {
    for (let i = 0; i < values.length; i++) {
      const steps = (values[i] - min) / step;
      if (Math.abs(steps - Math.round(steps)) > 1e-4) return false;
    }
    return true;
  };
  const step = STEPS.find(fits) ?? 1e-6;
  return { min: roundTo(min, step), max: roundTo(max, step), step };
}

function roundTo(x: number, step: number): number {
  const digits = Math.max(0, Math.ceil(-Math.log10(step)) + 1);
  return Number(x.toFixed(digits));
}

/**
 * The id map of every id coded in `parts` (see CodedRatings), and each code's dense index: plain integers
 * in a table (or a Map when they are too sparse for one), the interned ids through `interner`.
 */
export function codedIdMap(
  parts: Int32Array[],
  interner: IdInterner,
): { ids: IdMap; indexOf: (code: number) => number } {
  let maxId = -1;
  let total = 0;
  for (const p of parts) {
    total += p.length;
    for (let i = 0; i < p.length; i++) if (p[i] > maxId) maxId = p[i];
  }
  const useTable = maxId < 4 * total + (1 << 20);
  const seen = useTable ? new Uint8Array(maxId + 1) : null;
  const seenSet = useTable ? null : new Set<number>();
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      const v = p[i];
      if (v < 0) continue;
      if (seen) seen[v] = 1;
      else seenSet!.add(v);
    }
  }
  const plain: number[] = [];
  if (seen) {
    for (let v = 0; v <= maxId; v++) if (seen[v]) plain.push(v);
  } else plain.push(...[...seenSet!].sort((a, b) => a - b));
  const others = interner.ids.map((id, k) => ({ id, k })).sort((a, b) => compareRawIds(a.id, b.id));
  // Interned numbers have ten digits or more, so they sort after every plain one.
  const all: RawId[] = [...plain, ...others.map((o) => o.id)];
  const ids = others.length === 0 && maxId <= 0x7fffffff ? new IdMap(Int32Array.from(plain)) : new IdMap(all);
  const internedIndex = new Int32Array(interner.ids.length);
  others.forEach((o, r) => {
    internedIndex[o.k] = plain.length + r;
  });
  if (seen) {
    const table = new Int32Array(maxId + 1).fill(-1);
    plain.forEach((v, i) => {
      table[v] = i;
    });
    return { ids, indexOf: (code) => (code >= 0 ? table[code] : internedIndex[-code - 1]) };
  }
  const map = new Map(plain.map((v, i) => [v, i]));
  return { ids, indexOf: (code) => (code >= 0 ? map.get(code)! : internedIndex[-code - 1]) };
}

/** A layout in words, for the log: `comma-separated, header, user=userId item=movieId rating=rating`. */
export function describeFormat(format: DelimitedFormat): string {
  const sepName: Record<string, string> = {
    "\t": "tab",
    ",": "comma",
    ";": "semicolon",
    "|": "pipe",
    "::": "::",
  };
  const cols = ROLES.filter((r) => format.columns[r] >= 0)
    .map((r) => `${r}=${format.names ? format.names[format.columns[r]] : `#${format.columns[r] + 1}`}`)
    .join(" ");
  return `${sepName[format.sep] ?? JSON.stringify(format.sep)}-separated, ${format.header ? "header" : "no header"}, ${cols}${format.implicit ? " (implicit: every line a positive)" : ""}`;
}
