import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inferScale } from "../../src/data/delimited.js";
import { DataFormatError } from "../../src/data/errors.js";
import { loadFiles } from "../../src/data/files.js";
import { loadData } from "../../src/data/load.js";
import { IdMap, rawIdOf } from "../../src/data/ratings.js";
import { createBackend } from "../../src/kernels/index.js";
import { predict } from "../../src/model/model.js";
import { loadModel, saveModel } from "../../src/store/model-file.js";
import { defaultSettings, fitModel } from "../../src/train/registry.js";
import { movielensDir, tempDir } from "../helpers.js";

/** Ratings with text ids: 30 users x 12 items, ratings 1..5, timestamps rising. */
function rows(): [string, string, number, number][] {
  const out: [string, string, number, number][] = [];
  for (let u = 0; u < 30; u++)
    for (let i = 0; i < 12; i++)
      if ((u * 7 + i * 3) % 4 !== 0)
        out.push([`user ${u}`, `B00${i}X`, 1 + ((u + i) % 5), 1_000_000 + u * 100 + i]);
  return out;
}

describe("your own ratings files", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  const write = async (name: string, text: string | Buffer) => {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  };

  it.each([
    ["tab, no header", "t.tsv", (r: string[]) => r.join("\t"), null],
    ["comma with a header", "c.csv", (r: string[]) => r.join(","), "user,item,rating,timestamp"],
    ["double colon", "d.dat", (r: string[]) => r.join("::"), null],
    ["semicolon, CRLF and a BOM", "s.csv", (r: string[]) => r.join(";"), "\uFEFFuserId;itemId;rating;ts"],
    ["pipe, quoted fields", "p.txt", (r: string[]) => r.map((f) => `"${f}"`).join("|"), null],
  ])("reads %s the same", async (_what, name, join_, header) => {
    const lines = rows().map((r) => join_(r.map(String)));
    const eol = name === "s.csv" ? "\r\n" : "\n";
    const file = await write(name, [...(header ? [header] : []), ...lines].join(eol) + eol);
    const data = await loadFiles({ ratings: file }, { split: "ratio:0.8", seed: 3 });
    expect(data.train.size + data.test.size).toBe(rows().length);
    expect(data.userIds.size).toBe(30);
    expect(data.itemIds.size).toBe(12);
    expect(data.itemIds.idAt(0)).toBe("B000X");
    expect(data.userIds.indexOf("user 7")).toBeGreaterThanOrEqual(0);
    expect(data.scale).toEqual({ min: 1, max: 5, step: 1 });
    expect(data.implicit).toBe(false);
    expect(data.train.times).toBeDefined();
  });

  it("keeps ids exactly: 007 is not 7, large numbers and text stay apart", async () => {
    const file = await write("ids.csv", "u,i,r\n007,1,5\n7,2,4\n12345678901,x y,3\n7,007,2\n");
    const data = await loadFiles({ ratings: file, columns: ["u", "i", "r"] }, { split: "ratio:0.5" });
    expect(Array.from(data.userIds.ids)).toEqual([7, 12345678901, "007"]);
    expect(Array.from(data.itemIds.ids)).toEqual([1, 2, "007", "x y"]);
    expect(rawIdOf("42")).toBe(42);
    expect(rawIdOf("042")).toBe("042");
  });

  it("reads gzip as a stream and implicit files (no rating column) as positives", async () => {
    const text = rows()
      .map(([u, i]) => `${u},${i}`)
      .join("\n");
    const file = await write(
      "plays.csv.gz",
      gzipSync(`user,item\n${text}\n${rows()[0][0]},${rows()[0][1]}\n`),
    );
    const data = await loadFiles({ ratings: file }, { split: "ratio:0.8" });
    expect(data.implicit).toBe(true);
    expect(data.scale).toEqual({ min: 1, max: 1, step: 1 });
    expect(data.train.size + data.test.size).toBe(rows().length);
    expect(data.notes.join("\n")).toContain("1 repeated (user, item) pairs counted once");
    const backend = createBackend("reference");
    expect(() => fitModel("autorec-i", data, { backend })).toThrow(
      /predicts ratings, and these data have none/,
    );
    const ease = fitModel("ease", data, { backend });
    expect(ease.model.scoreUsers([0]).length).toBe(12);
    // --implicit ignores a rating column.
    const rated = await write(
      "rated.csv",
      `user,item,rating\n${rows()
        .map((r) => r.slice(0, 3).join(","))
        .join("\n")}\n`,
    );
    expect((await loadFiles({ ratings: rated, implicit: true })).implicit).toBe(true);
  });

  it("infers the scale: whole stars, half stars, tenths", () => {
    expect(inferScale(Float32Array.from([1, 3, 5]))).toEqual({ min: 1, max: 5, step: 1 });
    expect(inferScale(Float32Array.from([0.5, 3, 4.5, 5]))).toEqual({ min: 0.5, max: 5, step: 0.5 });
    expect(inferScale(Float32Array.from([0, 3.7, 10]))).toEqual({ min: 0, max: 10, step: 0.1 });
  });

  it("fixed train and test files, a time split, and titles from --items", async () => {
    const all = rows();
    const train = await write(
      "train.tsv",
      `${all
        .slice(0, 200)
        .map((r) => r.join("\t"))
        .join("\n")}\n`,
    );
    const test = await write(
      "test.tsv",
      `${all
        .slice(200)
        .map((r) => r.join("\t"))
        .join("\n")}\n`,
    );
    const items = await write(
      "items.csv",
      `itemId,title,genres\n${Array.from({ length: 12 }, (_, i) => `B00${i}X,"Book ${i}, Vol. 2 (19${50 + i})",Fiction|Crime`).join("\n")}\nunused,Nothing,\n`,
    );
    const data = await loadFiles({ train, test, items });
    expect([data.train.size, data.test.size, data.split]).toEqual([200, all.length - 200, "files"]);
    expect(data.movies.get("B003X")).toEqual({
      id: "B003X",
      title: "Book 3, Vol. 2 (1953)",
      year: 1953,
      genres: ["Fiction", "Crime"],
    });
    expect(data.movies.has("unused")).toBe(false);
    const timed = await loadFiles({ ratings: train }, { split: "time:0.75" });
    // Each user's latest quarter is his test part.
    for (let k = 0; k < timed.test.size; k++) {
      const u = timed.test.users[k];
      for (let q = 0; q < timed.train.size; q++)
        if (timed.train.users[q] === u)
          expect(timed.train.times![q]).toBeLessThanOrEqual(timed.test.times![k]);
    }
    const global = await loadFiles({ ratings: train }, { split: "time-global:0.75" });
    expect(Math.max(...global.train.times!)).toBeLessThanOrEqual(Math.min(...global.test.times!));
  });

  it("a model on text ids saves and loads with its ids and titles", async () => {
    const file = await write(
      "m.csv",
      `user,item,rating\n${rows()
        .map((r) => r.slice(0, 3).join(","))
        .join("\n")}\n`,
    );
    const data = await loadFiles({ ratings: file }, { split: "ratio:0.8" });
    const backend = createBackend("reference");
    const { model } = fitModel("mf", data, { backend });
    const saved = join(dir, "m.safetensors");
    const about = {
      settings: defaultSettings("mf", data.scale),
      dataset: data.dataset,
      split: data.split,
      history: [],
      metrics: {},
    };
    await saveModel(saved, model, {
      ...about,
      userIds: data.userIds,
      itemIds: data.itemIds,
      movies: data.movies,
    });
    const loaded = await loadModel(saved, backend);
    expect(loaded.userIds.equals(data.userIds)).toBe(true);
    expect(loaded.itemIds.equals(data.itemIds)).toBe(true);
    expect(loaded.userIds.indexOf("user 3")).toBe(data.userIds.indexOf("user 3"));
    expect(Array.from(predict(loaded.model, data.test))).toEqual(Array.from(predict(model, data.test)));
  });

  it.each([
    ["a wrong field count", "a,b,3\nc,d\ne,f,4\n", /f\.csv:2: expected 3 fields/],
    [
      "a rating that is not a number",
      "a,b,3\nc,d,five\n",
      /f\.csv:2: column 3, the rating, is not a number: "five"/,
    ],
    ["an empty id", "a,b,3\n,d,4\n", /f\.csv:2: column 1, the user id, is empty/],
    [
      "a pair rated twice",
      "a,b,3\nc,d,4\na,b,5\n",
      /f\.csv:3: user "a" rates item "b" twice \(also at .*f\.csv:1\)/,
    ],
    ["only blank lines", "\n\n  \n", /f\.csv: the file has no/],
    ["an empty file", "", /f\.csv: the file is empty/],
    [
      "a header without the columns asked for",
      "user,item,rating\na,b,3\n",
      /no column "stars" for the rating/,
    ],
    [
      "a rating off the given scale",
      "a,b,3\nc,d,7\n",
      /f\.csv:2: column 3: rating 7 is not on the scale 1\.\.5/,
    ],
  ])("rejects %s with the file, line and column", async (what, text, message) => {
    const file = await write("f.csv", text);
    const options =
      what === "a header without the columns asked for"
        ? { ratings: file, columns: ["user", "item", "stars"] }
        : what === "a rating off the given scale"
          ? { ratings: file, scale: { min: 1, max: 5, step: 1 } }
          : { ratings: file };
    await expect(loadFiles(options)).rejects.toThrow(message);
    await expect(loadFiles(options)).rejects.toBeInstanceOf(
      what === "an empty file" ? DataFormatError : Error,
    );
  });

  it("IdMap keeps sparse large integer ids in a Map, not a huge table", () => {
    const ids = IdMap.fromRaw([2_000_000_000, 5, 1_999_999_999]);
    expect(Array.from(ids.ids)).toEqual([5, 1_999_999_999, 2_000_000_000]);
    expect(ids.indexOf(2_000_000_000)).toBe(2);
    expect(ids.indexOf("5")).toBe(0);
    expect(ids.indexOf(6)).toBe(-1);
  });
});

const realDir = movielensDir();

describe.skipIf(!realDir)("ML-100K through the generic loader", () => {
  it("u1.base / u1.test as --train/--test give the ml-100k u1 data and the same model", async () => {
    const named = await loadData("ml-100k", { dataDir: realDir, split: "u1" });
    const own = await loadFiles({
      train: join(realDir!, "ml-100k", "u1.base"),
      test: join(realDir!, "ml-100k", "u1.test"),
    });
    expect(own.scale).toEqual(named.scale);
    expect(own.userIds.equals(named.userIds)).toBe(true);
    expect(own.itemIds.equals(named.itemIds)).toBe(true);
    for (const part of ["train", "test"] as const) {
      expect(own[part].users).toEqual(named[part].users);
      expect(own[part].items).toEqual(named[part].items);
      expect(own[part].values).toEqual(named[part].values);
    }
    const backend = createBackend("reference");
    const a = fitModel("bias", named, { backend }).model;
    const b = fitModel("bias", own, { backend }).model;
    expect(Array.from(predict(b, own.test))).toEqual(Array.from(predict(a, named.test)));
  });

  it("u.data through --ratings splits exactly as the ml-100k data set does", async () => {
    const named = await loadData("ml-100k", { dataDir: realDir, split: "ratio:0.9", seed: 4 });
    const own = await loadFiles(
      { ratings: join(realDir!, "ml-100k", "u.data") },
      { split: "ratio:0.9", seed: 4 },
    );
    expect(own.train.users).toEqual(named.train.users);
    expect(own.test.values).toEqual(named.test.values);
  });
});
