import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forEachLine } from "../../src/data/lines.js";
import { tempDir } from "../helpers.js";

describe("forEachLine", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  const lines = async (text: string | Buffer) => {
    const path = join(dir, "lines.txt");
    await writeFile(path, text);
    const seen: string[] = [];
    const count = await forEachLine(path, (buf, start, end) => seen.push(buf.toString("utf8", start, end)));
    expect(count).toBe(seen.length);
    return seen;
  };

  it("delivers lines longer than a read chunk whole, wherever their breaks fall", async () => {
    // The stream reads 1 MiB at a time: a 2.5 MiB line, a CRLF whose CR ends the first chunk, and a short
    // last line without a break.
    const long = "x".repeat(2.5 * 2 ** 20);
    const beforeCr = "y".repeat(2 ** 20 - 1);
    const seen = await lines(`${beforeCr}\r\n${long}\nshort\r\n\nend`);
    expect(seen.map((l) => l.length)).toEqual([beforeCr.length, long.length, 5, 0, 3]);
    expect(seen[1]).toBe(long);
  });

  it("skips a UTF-8 byte order mark at the start only", async () => {
    expect(await lines("\uFEFFa\n\uFEFFb")).toEqual(["a", "\uFEFFb"]);
  });
});
