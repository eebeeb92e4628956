import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataFormatError, DataNotFoundError } from "../../src/data/errors.js";
import { parseRatingsFile } from "../../src/data/parse-ratings.js";
import { tempDir } from "../helpers.js";

const STARS = { min: 1, max: 5, step: 1 };
const HALF = { min: 0.5, max: 5, step: 0.5 };

describe("parseRatingsFile", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  it("reads a byte order mark, and refuses a file of blank lines as having no ratings", async () => {
    const bom = await parseRatingsFile(await file("bom.data", "\uFEFF1\t10\t5\t1\r\n"), "tab", STARS);
    expect([...bom.userIds, ...bom.itemIds]).toEqual([1, 10]);
    const blank = await file("blank.data", "\n\r\n\n");
    await expect(parseRatingsFile(blank, "tab", STARS)).rejects.toThrow(
      new DataFormatError(blank, 0, "the file has no ratings (only blank lines, or only the header)"),
    );
  });

  it("reads the three separators, CRLF and a last line without a break", async () => {
    const tab = await parseRatingsFile(
      await file("a.data", "1\t10\t5\t881250949\r\n2\t20\t3\t1\n3\t30\t1\t0"),
      "tab",
      STARS,
    );
    expect([...tab.userIds]).toEqual([1, 2, 3]);
    expect([...tab.itemIds]).toEqual([10, 20, 30]);
    expect([...tab.values]).toEqual([5, 3, 1]);
    expect([...tab.timestamps]).toEqual([881250949, 1, 0]);
    const dat = await parseRatingsFile(
      await file("r.dat", "1::1193::5::978300760\n1::661::3::978302109\n"),
      "double-colon",
      STARS,
    );
    expect([...dat.itemIds]).toEqual([1193, 661]);
    const csv = await parseRatingsFile(
      await file(
        "ratings.csv",
        "userId,movieId,rating,timestamp\n1,296,5.0,1147880044\n1,306,3.5,1147868817\n",
      ),
      "csv",
      HALF,
    );
    expect([...csv.values]).toEqual([5, 3.5]);
  });

  it("reads a file larger than one stream chunk without losing lines", async () => {
    const lines = Array.from(
      { length: 120_000 },
      (_, i) => `${(i % 900) + 1}\t${i + 1}\t${(i % 5) + 1}\t${i}`,
    );
    const parsed = await parseRatingsFile(await file("big.data", `${lines.join("\n")}\n`), "tab", STARS);
    expect(parsed.values.length).toBe(120_000);
    expect(parsed.itemIds[119_999]).toBe(120_000);
  });

  const bad: [string, string, RegExp][] = [
    ["wrong field count", "1\t2\t3\t4\n5\t6\t7\n", /bad\.data:2: expected 4 fields/],
    ["too many fields", "1\t2\t3\t4\t5\n", /bad\.data:1: more than 4 fields/],
    ["non-numeric rating", "1\t2\t3\t4\n1\t3\tfive\t4\n", /bad\.data:2: field 3 \(rating\) is not a number/],
    ["rating off the scale", "1\t2\t6\t4\n", /bad\.data:1: rating 6 is not on the scale 1\.\.5/],
    ["half star on a whole-star scale", "1\t2\t3.5\t4\n", /bad\.data:1: rating 3\.5 is not on the scale/],
    ["zero user id", "0\t2\t3\t4\n", /bad\.data:1: user id 0 is not a positive integer/],
    ["negative movie id", "1\t-2\t3\t4\n", /bad\.data:1: field 2 \(movie id\) is not a number/],
    ["empty field", "1\t\t3\t4\n", /bad\.data:1: field 2 \(movie id\) is not a number/],
  ];
  it.each(bad)("names the file and line for a %s", async (_, text, message) => {
    const path = await file("bad.data", text);
    const error = await parseRatingsFile(path, "tab", STARS).catch((e) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toMatch(message);
    expect(error.file).toBe(path);
  });

  it("refuses an empty file, a missing file and a CSV without its header", async () => {
    await expect(parseRatingsFile(await file("empty.data", ""), "tab", STARS)).rejects.toThrow(
      /the file is empty/,
    );
    await expect(parseRatingsFile(join(dir, "nope.data"), "tab", STARS)).rejects.toBeInstanceOf(
      DataNotFoundError,
    );
    await expect(parseRatingsFile(await file("nohead.csv", "1,2,3.0,4\n"), "csv", HALF)).rejects.toThrow(
      /nohead\.csv:1: expected the header "userId,movieId,rating,timestamp"/,
    );
  });
});
