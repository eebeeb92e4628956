import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { DataFormatError, DataNotFoundError } from "./errors.js";

/** Called for each line: bytes buf[start..end) without the line break, and its 1-based number. */
export type LineVisitor = (buf: Buffer, start: number, end: number, line: number) => void;

/**
 * Streams `file` and calls `visit` for every line, in bounded memory (one chunk plus one partial line).
 * Handles LF and CRLF; a last line without a break counts. Throws DataNotFoundError for a missing file and
 * DataFormatError for an empty one.
 */
export async function forEachLine(file: string, visit: LineVisitor): Promise<number> {
  await ensureFile(file);
  let carry: Buffer | null = null;
  let line = 0;
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      line++;
      visit(buf, start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl, line);
      start = nl + 1;
    }
    carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
  }
  if (carry && carry.length > 0) {
    line++;
    const end = carry[carry.length - 1] === 13 ? carry.length - 1 : carry.length;
    visit(carry, 0, end, line);
  }
  if (bytes === 0) throw new DataFormatError(file, 0, "the file is empty");
  return line;
}

/** Throws DataNotFoundError unless `file` is a regular file. */
export async function ensureFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw new DataNotFoundError(`${file}: file not found`);
}

/** The line's text for error messages, shortened. */
export function lineText(buf: Buffer, start: number, end: number): string {
  const text = buf.toString("latin1", start, Math.min(end, start + 80));
  return JSON.stringify(end - start > 80 ? `${text}...` : text);
}
