import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { DataFormatError } from "./errors.js";
import { ensureFile } from "./lines.js";

/**
 * Reads a small text file whole. MovieLens metadata is Latin-1 up to ML-1M and UTF-8 later; a file that is
 * valid UTF-8 is read as UTF-8, anything else as Latin-1, so both come out right. A .gz file is
 * decompressed first.
 */
export async function readTextFile(file: string): Promise<string> {
  await ensureFile(file);
  const stored = await readFile(file);
  let bytes = stored;
  if (file.endsWith(".gz")) {
    try {
      bytes = gunzipSync(stored);
    } catch (e) {
      throw new DataFormatError(file, 0, `not readable as gzip: ${(e as Error).message}`);
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString("latin1");
  }
}

/** Splits text into lines (LF or CRLF), dropping the empty string after a final line break. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * Parses RFC 4180 CSV: fields in double quotes may hold commas, line breaks and doubled quotes. Returns
 * the records with the 1-based line each starts on. Throws on an unterminated quote or stray quote.
 */
export function parseCsv(
  text: string,
  onError: (line: number, why: string) => never,
): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let recordLine = 1;
  let i = 0;
  let atFieldStart = true;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "")) records.push({ line: recordLine, fields });
    fields = [];
    field = "";
    atFieldStart = true;
  };
  while (i < text.length) {
    const c = text[i];
    if (atFieldStart && c === '"') {
      i++;
      for (;;) {
        if (i >= text.length) onError(recordLine, "a quoted field is never closed");
        const q = text[i];
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === "\n") line++;
        field += q;
        i++;
      }
      atFieldStart = false;
      if (i < text.length && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
        onError(line, "a quoted field must be followed by a comma or the end of the line");
      }
      continue;
    }
    if (c === ",") {
      fields.push(field);
      field = "";
      atFieldStart = true;
      i++;
    } else if (c === "\n" || c === "\r") {
      endRecord();
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      if (c === '"') onError(line, "a quote inside an unquoted field");
      field += c;
      atFieldStart = false;
      i++;
    }
  }
  if (field !== "" || fields.length > 0) endRecord();
  return records;
}
