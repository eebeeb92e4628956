import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { DataFormatError, DataNotFoundError } from "./errors.js";
import type { ReadProgress } from "./read-progress.js";

/**
 * Called for each line: bytes buf[start..end) without the line break, and its 1-based number. Returning
 * true stops the reading there.
 */
export type LineVisitor = (buf: Buffer, start: number, end: number, line: number) => unknown;

/**
 * Streams `file` and calls `visit` for every line, in bounded memory (one chunk plus one partial line).
 * Handles LF and CRLF and a UTF-8 byte order mark; a last line without a break counts. A line that spans
 * chunks is kept as a list of pieces and joined once, when its break arrives, so a very long line costs
 * time in proportion to its length. A file whose name ends in .gz is decompressed as it streams. Throws DataNotFoundError for a missing file and DataFormatError for an
 * empty one.
 */
export async function forEachLine(file: string, visit: LineVisitor, onBytes?: ReadProgress): Promise<number> {
  await ensureFile(file);
  const size = onBytes ? (await stat(file)).size : 0;
  let pieces: Buffer[] = [];
  let line = 0;
  let bytes = 0;
  // Each line's end, before a CR that ends it.
  const withoutCr = (buf: Buffer, start: number, end: number) =>
    end > start && buf[end - 1] === 13 ? end - 1 : end;
  const whole = (parts: Buffer[]) => {
    const joined = Buffer.concat(parts);
    return visit(joined, 0, withoutCr(joined, 0, joined.length), ++line);
  };
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = file.endsWith(".gz") ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw;
  let stopped = false;
  try {
    for await (const data of stream as AsyncIterable<Buffer>) {
      const chunk = bytes === 0 && startsWithBom(data) ? data.subarray(3) : data;
      bytes += data.length;
      let start = 0;
      let nl = chunk.indexOf(10);
      if (pieces.length > 0 && nl !== -1) {
        // The line carried over from earlier chunks ends here.
        pieces.push(chunk.subarray(0, nl));
        stopped = whole(pieces) === true;
        pieces = [];
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      for (; nl !== -1 && !stopped; nl = chunk.indexOf(10, start)) {
        stopped = visit(chunk, start, withoutCr(chunk, start, nl), ++line) === true;
        start = nl + 1;
      }
      if (stopped) return line;
      onBytes?.(raw.bytesRead, size);
      // The stream may reuse its buffers: keep a copy of what is left.
      if (start < chunk.length) pieces.push(Buffer.from(chunk.subarray(start)));
    }
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("Z_"))
      throw new DataFormatError(file, line, `not readable as gzip: ${(e as Error).message}`);
    throw e;
  } finally {
    raw.destroy();
  }
  if (pieces.length > 0) whole(pieces);
  if (bytes === 0) throw new DataFormatError(file, 0, "the file is empty");
  return line;
}

function startsWithBom(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
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

/** True for an empty line or one of spaces and tabs only. */
export function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 32 && buf[i] !== 9) return false;
  return true;
}

/** The 1-based line of the `index`-th record of `file` (0-based; blank lines and a header are not records). */
export async function recordLine(file: string, hasHeader: boolean, index: number): Promise<number> {
  let seen = -1;
  let found = 0;
  await forEachLine(file, (buf, start, end, line) => {
    if (isBlank(buf, start, end) || (hasHeader && line === 1)) return false;
    if (++seen === index) found = line;
    return found > 0;
  });
  return found;
}
