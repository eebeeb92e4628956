import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataFormatError, DataNotFoundError } from "../../src/data/errors.js";
import { loadData } from "../../src/data/load.js";
import { movielensDir, tempDir } from "../helpers.js";

const realDir = movielensDir();

describe.skipIf(!realDir)("ML-100K from $MOVIELENS_DIR", () => {
  it("loads all 80,000 / 20,000 ratings of u1 (the tutorial drops the first of each)", async () => {
    const d = await loadData("ml-100k", { dataDir: realDir, split: "u1" });
    expect(d.train.size).toBe(80_000);
    expect(d.test.size).toBe(20_000);
    expect(d.userIds.size).toBe(943);
    expect(d.itemIds.size).toBe(1682);
    expect(d.train.byUser().indptr[1]).toBeGreaterThan(0);
    // The first line of u1.base is user 1, movie 1, rating 5: the one the tutorial loses.
    const first = d.train.byUser();
    expect(first.indices[0]).toBe(d.itemIds.indexOf(1));
    expect(first.values[0]).toBe(5);
  });

  it("reads every predefined split and Latin-1 titles with genres", async () => {
    for (const [split, nTrain, nTest] of [
      ["u5", 80_000, 20_000],
      ["ua", 90_570, 9_430],
      ["ub", 90_570, 9_430],
    ] as const) {
      const d = await loadData("ml-100k", { dataDir: realDir, split });
      expect([d.train.size, d.test.size]).toEqual([nTrain, nTest]);
    }
    const d = await loadData("ml-100k", { dataDir: realDir, split: "ratio:0.9", seed: 2 });
    expect([d.train.size, d.test.size]).toEqual([90_000, 10_000]);
    const titles = [...d.movies.values()].map((m) => m.title);
    expect(titles).toContain("Misérables, Les (1995)");
    expect(d.movies.get(1)).toEqual({
      id: 1,
      title: "Toy Story (1995)",
      year: 1995,
      genres: ["Animation", "Children's", "Comedy"],
    });
    expect(d.users.get(1)).toMatchObject({ age: 24, gender: "M", occupation: "technician" });
  });
});

describe("MovieLens formats and bad data", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  const write = async (folder: string, files: Record<string, string | Buffer>) => {
    await mkdir(join(dir, folder), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, folder, name), text);
  };

  it("reads ML-1M (Latin-1) and ML-10M (its ml-10M100K folder, half stars)", async () => {
    const ratings = Array.from(
      { length: 40 },
      (_, i) => `${(i % 4) + 1}::${Math.floor(i / 4) + 1}::${(i % 5) + 1}::97830076${i % 10}`,
    );
    await write("ml-1m", {
      "ratings.dat": `${ratings.join("\n")}\n`,
      "movies.dat": Buffer.from(
        Array.from({ length: 10 }, (_, i) => `${i + 1}::Mis\xe9rables ${i} (1995)::Drama|Musical`).join("\n"),
        "latin1",
      ),
      "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::15::55117\n4::M::45::7::02460\n",
    });
    const d = await loadData("ml-1m", { dataDir: dir, split: "ratio:0.75" });
    expect(d.train.size + d.test.size).toBe(40);
    expect(d.train.size).toBe(30);
    expect(d.movies.get(3)).toEqual({
      id: 3,
      title: "Misérables 2 (1995)",
      year: 1995,
      genres: ["Drama", "Musical"],
    });
    expect(d.users.get(2)).toMatchObject({ gender: "M", age: 56 });

    await write("ml-10M100K", {
      "ratings.dat": "1::5::4.5::1\n2::5::0.5::2\n2::7::3::3\n",
      "movies.dat": "5::Heat (1995)::Action\n7::Sabrina (1995)::Comedy|Romance\n",
    });
    const ten = await loadData("ml-10m", { dataDir: dir, split: "ratio:0.5" });
    expect([...ten.train.values, ...ten.test.values].sort()).toEqual([0.5, 3, 4.5]);
  });

  it("reads the CSV family with RFC 4180 quoting and UTF-8", async () => {
    await write("ml-latest-small", {
      "ratings.csv":
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n2,3,0.5,964982224\n",
      "movies.csv":
        'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n3,"Amélie (Fabuleux destin d\'Amélie Poulain, Le) (2001)",Comedy|Romance\n' +
        '4,"Quote ""Test"" (2000)",(no genres listed)\n',
    });
    const d = await loadData("ml-latest-small", { dataDir: dir, split: "ratio:0.5" });
    expect(d.train.size + d.test.size).toBe(3);
    expect(d.movies.get(3)?.title).toBe("Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)");
    expect(d.movies.get(4)).toEqual({ id: 4, title: 'Quote "Test" (2000)', year: 2000, genres: [] });
  });

  it("names both places of a duplicate (user, movie) pair", async () => {
    await write("ml-20m", {
      "ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,1\n\n2,1,3.0,2\n1,1,5.0,3\n",
      "movies.csv": "movieId,title,genres\n1,Toy Story (1995),Animation\n",
    });
    const error = await loadData("ml-20m", { dataDir: dir }).catch((e) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toMatch(/ratings\.csv:5: user 1 rates movie 1 twice \(also at .*ratings\.csv:2\)/);
  });

  it("refuses a test rating that is also in the training file of a predefined split", async () => {
    await write("ml-100k", {
      "u.data": "1\t1\t5\t1\n",
      "u1.base": "1\t1\t5\t1\n1\t2\t3\t2\n",
      "u1.test": "2\t1\t4\t3\n1\t2\t3\t2\n",
      "u.item": "1|Toy Story (1995)|01-Jan-1995||x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
      "u.user": "1|24|M|technician|85711\n",
    });
    const error = await loadData("ml-100k", { dataDir: dir, split: "u1" }).catch((e) => e);
    expect(error.message).toMatch(/u1\.test:2: user 1 rates movie 2 twice \(also at .*u1\.base:2\)/);
  });

  it("says where it looked and what to do when a data set is missing, and lists the names it knows", async () => {
    const error = await loadData("ml-25m", { dataDir: dir }).catch((e) => e);
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(error.message).toMatch(/ml-25m not found .*aerec download ml-25m.*MOVIELENS_DIR/s);
    await expect(loadData("ml-7m", { dataDir: dir })).rejects.toThrow(
      /unknown dataset "ml-7m": choose one of ml-100k/,
    );
  });

  it("loads synthetic data with a ratio split", async () => {
    const d = await loadData("synthetic:users=50,items=40,ratings=1000,min=5", { seed: 3 });
    expect([d.train.size, d.test.size]).toEqual([900, 100]);
    expect(d.split).toBe("ratio:0.9");
  });
});
