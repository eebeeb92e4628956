import type { RatingScale, RatingsFormat } from "./datasets.js";
import { DataFormatError } from "./errors.js";
import { GrowableArray } from "./growable.js";
import { forEachLine, lineText } from "./lines.js";
import type { ReadProgress } from "./read-progress.js";

/** Ratings as a file states them: raw ids, in file order, one typed-array slot per rating. */
export interface RawRatings {
  file: string;
  userIds: Int32Array;
  itemIds: Int32Array;
  values: Float32Array;
  timestamps: Uint32Array;
}

const CSV_HEADER = "userId,movieId,rating,timestamp";
const TAB = 9;
const COLON = 58;
const COMMA = 44;
const DOT = 46;

/**
 * Reads a ratings file (`user item rating timestamp`, separated as `format` says) into typed arrays.
 * Every line must hold exactly four fields: positive integer ids, a rating on `scale`, an integer
 * timestamp. Empty lines are allowed; anything else malformed throws a DataFormatError naming the line.
 */
export async function parseRatingsFile(
  file: string,
  format: RatingsFormat,
  scale: RatingScale,
  onBytes?: ReadProgress,
): Promise<RawRatings> {
  const users = new GrowableArray(Int32Array, 1 << 16);
  const items = new GrowableArray(Int32Array, 1 << 16);
  const values = new GrowableArray(Float32Array, 1 << 16);
  const times = new GrowableArray(Uint32Array, 1 << 16);
  const fields = new Float64Array(4);
  const sep = format === "tab" ? TAB : format === "csv" ? COMMA : COLON;
  const sepWidth = format === "double-colon" ? 2 : 1;

  await forEachLine(
    file,
    (buf, start, end, line) => {
      if (format === "csv" && line === 1) {
        const header = buf.toString("utf8", start, end);
        if (header !== CSV_HEADER) {
          throw new DataFormatError(
            file,
            line,
            `expected the header "${CSV_HEADER}", found ${lineText(buf, start, end)}`,
          );
        }
        return;
      }
      if (start === end) return;
      const fail = (why: string): never => {
        throw new DataFormatError(file, line, `${why} in ${lineText(buf, start, end)}`);
      };
      let n = 0;
      let fieldStart = start;
      for (let i = start; i <= end; i++) {
        const atSep = i < end && buf[i] === sep && (sepWidth === 1 || (i + 1 < end && buf[i + 1] === COLON));
        if (i === end || atSep) {
          if (n === 4) fail("more than 4 fields");
          fields[n] = parseDecimal(buf, fieldStart, i);
          if (Number.isNaN(fields[n])) {
            fail(`field ${n + 1} (${FIELD_NAMES[n]}) is not a number: ${lineText(buf, fieldStart, i)}`);
          }
          n++;
          if (atSep) i += sepWidth - 1;
          fieldStart = i + 1;
        }
      }
      if (n !== 4) fail(`expected 4 fields (user, movie, rating, timestamp), found ${n}`);
      const [user, item, rating, time] = fields;
      if (!Number.isInteger(user) || user < 1 || user > 0x7fffffff)
        fail(`user id ${user} is not a positive integer`);
      if (!Number.isInteger(item) || item < 1 || item > 0x7fffffff)
        fail(`movie id ${item} is not a positive integer`);
      if (!onScale(rating, scale)) {
        fail(`rating ${rating} is not on the scale ${scale.min}..${scale.max} in steps of ${scale.step}`);
      }
      if (!Number.isInteger(time) || time > 0xffffffff)
        fail(`timestamp ${time} is not a non-negative integer`);
      users.push(user);
      items.push(item);
      values.push(rating);
      times.push(time);
    },
    onBytes,
  );
  if (values.length === 0) {
    throw new DataFormatError(file, 0, "the file has no ratings (only blank lines, or only the header)");
  }
  return {
    file,
    userIds: users.view(),
    itemIds: items.view(),
    values: values.view(),
    timestamps: times.view(),
  };
}

const FIELD_NAMES = ["user id", "movie id", "rating", "timestamp"];

/**
 * True when `x` is min..max and a whole number of steps above min. The tolerance covers only the rounding
 * of decimal steps (0.3 is not exactly 0.1 + 2 x 0.1 in binary), so 4.0000000001 is off a whole-star scale.
 */
export function onScale(x: number, scale: RatingScale): boolean {
  if (!(x >= scale.min && x <= scale.max)) return false;
  const steps = (x - scale.min) / scale.step;
  return Math.abs(steps - Math.round(steps)) < 1e-12 * Math.max(1, Math.abs(steps));
}

/** Parses unsigned `digits[.digits]` from buf[start..end); NaN for anything else (signs, exponents, blanks). */
export function parseDecimal(buf: Buffer, start: number, end: number): number {
  if (start === end) return Number.NaN;
  let whole = 0;
  let i = start;
  for (; i < end && buf[i] !== DOT; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return Number.NaN;
    whole = whole * 10 + d;
  }
  if (i === end) return whole;
  if (i === start || i + 1 === end) return Number.NaN;
  let frac = 0;
  let scale = 1;
  for (i++; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return Number.NaN;
    frac = frac * 10 + d;
    scale *= 10;
  }
  return whole + frac / scale;
}
