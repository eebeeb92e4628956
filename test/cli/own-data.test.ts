import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers.js";

// The built CLI on a user's own comma-separated file with text ids, one command per step, as the README shows.
const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const run = promisify(execFile);

async function aerec(args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd, maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("aerec on your own file", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const lines = ["user_id,book_id,stars"];
    for (let u = 0; u < 60; u++)
      for (let b = 0; b < 20; b++)
        if ((u * 3 + b) % 4 !== 1) lines.push(`reader-${u},isbn-${b},${1 + ((u + b) % 10)}`);
    await writeFile(join(dir, "ratings.csv"), `${lines.join("\n")}\n`);
    const books = Array.from({ length: 20 }, (_, b) => `isbn-${b}\tBook number ${b}\tNovel|Crime`);
    await writeFile(join(dir, "books.tsv"), `book_id\ttitle\tgenres\n${books.join("\n")}\n`);
  });
  afterAll(() => cleanup());

  it("trains, recommends with titles, predicts, writes every user's list and splits", async () => {
    const trained = await aerec(
      [
        ...["train", "--ratings", "ratings.csv", "--items", "books.tsv", "--model", "mf", "--epochs", "5"],
        ...["--save", "mf.safetensors", "--json"],
      ],
      dir,
    );
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toContain(
      "ratings.csv: comma-separated, header, user=user_id item=book_id rating=stars",
    );
    expect(trained.stderr).toContain("rating scale 1..10 in steps of 1 (inferred");
    const summary = JSON.parse(trained.stdout.trim().split("\n").at(-1)!);
    expect(summary.dataset).toBe("file:ratings.csv");

    const recs = await aerec(
      ["recommend", "--model-file", "mf.safetensors", "--user", "reader-3", "-k", "3", "--min-ratings", "0"],
      dir,
    );
    expect(recs.code, recs.stderr).toBe(0);
    expect(recs.stdout).toMatch(/1\. \d+\.\d\d {2}Book number \d+ {2}\[Novel, Crime\] {2}\(movie isbn-\d+\)/);

    const one = await aerec(
      ["predict", "--model-file", "mf.safetensors", "--user", "reader-3", "--item", "isbn-1", "--json"],
      dir,
    );
    expect(JSON.parse(one.stdout)).toMatchObject({ user: "reader-3", item: "isbn-1", fallback: false });
    await writeFile(join(dir, "pairs.csv"), "user,item\nreader-3,isbn-1\nsomeone-new,isbn-2\n");
    const many = await aerec(
      ["predict", "--model-file", "mf.safetensors", "--pairs", "pairs.csv", "--out", "p.jsonl"],
      dir,
    );
    expect(many.code, many.stderr).toBe(0);
    const predicted = (await readFile(join(dir, "p.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(predicted.map((p) => [p.user, p.item, p.fallback])).toEqual([
      ["reader-3", "isbn-1", false],
      ["someone-new", "isbn-2", true],
    ]);
    expect(predicted[0].prediction).toBeCloseTo(JSON.parse(one.stdout).prediction, 5);

    const all = await aerec(
      [
        "recommend",
        "--model-file",
        "mf.safetensors",
        "--all-users",
        "-k",
        "2",
        "--out",
        "recs.csv",
        "--min-ratings",
        "0",
      ],
      dir,
    );
    expect(all.code, all.stderr).toBe(0);
    const rows = (await readFile(join(dir, "recs.csv"), "utf8")).trim().split("\n");
    expect(rows[0]).toBe("user,rank,item,title,score,predicted");
    expect(rows).toHaveLength(1 + 60 * 2);
    expect(rows[1]).toMatch(/^reader-0,1,isbn-\d+,Book number \d+,/);

    const split = await aerec(
      ["split", "--ratings", "ratings.csv", "--split", "ratio:0.8", "--seed", "2", "--out-dir", "s"],
      dir,
    );
    expect(split.code, split.stderr).toBe(0);
    const again = await aerec(
      ["evaluate", "--train", "s/train.csv", "--test", "s/test.csv", "--models", "mean", "--json"],
      dir,
    );
    const direct = await aerec(
      [
        "evaluate",
        "--ratings",
        "ratings.csv",
        "--split",
        "ratio:0.8",
        "--seed",
        "2",
        "--repeats",
        "1",
        "--models",
        "mean",
        "--json",
      ],
      dir,
    );
    const rmse = (out: string) => JSON.parse(out.trim().split("\n").at(-1)!).runs[0].rmse;
    expect(rmse(again.stdout)).toBeCloseTo(rmse(direct.stdout), 10);
  });

  it("trains a top-N model on implicit data and recommends from it; refuses a rating model", async () => {
    const ease = await aerec(
      ["train", "--ratings", "ratings.csv", "--implicit", "--model", "ease", "--save", "ease.safetensors"],
      dir,
    );
    expect(ease.code, ease.stderr).toBe(0);
    expect(ease.stdout + ease.stderr).toContain("(implicit: every line a positive)");
    const recs = await aerec(
      [
        "recommend",
        "--model-file",
        "ease.safetensors",
        "--user",
        "reader-5",
        "-k",
        "3",
        "--min-ratings",
        "0",
        "--json",
      ],
      dir,
    );
    expect(recs.code, recs.stderr).toBe(0);
    expect(JSON.parse(recs.stdout.trim().split("\n").at(-1)!).items).toHaveLength(3);
    const res = await aerec(["train", "--ratings", "ratings.csv", "--implicit", "--model", "autorec-i"], dir);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(
      /autorec-i predicts ratings, and these data have none .* choose a top-N model \(ease, mult-dae, mult-vae\)/,
    );
  });
});
