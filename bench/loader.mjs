// The generic ratings loader (your own files) against the MovieLens CSV loader on the same file: a
// synthetic ratings.csv in ML-32M's layout (userId,movieId,rating,timestamp), each loader run in a child
// process of its own so that its peak memory is its own. Prints seconds, peak RSS and the time ratio.
//
//   node bench/loader.mjs [--ratings 32000000] [--runs 1] [--keep DIR]
import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateRatings } from "../dist/index.js";
import { machineLine, median } from "./common.mjs";

const { values: args } = parseArgs({
  options: {
    ratings: { type: "string", default: "32000000" },
    runs: { type: "string", default: "1" },
    keep: { type: "string" },
    child: { type: "string" },
    dir: { type: "string" },
  },
});

if (args.child) {
  // One load, measured in this process.
  const { loadData, loadRatingsFile } = await import("../dist/index.js");
  const started = performance.now();
  const data =
    args.child === "movielens"
      ? await loadData("ml-32m", { dataDir: args.dir, split: "ratio:0.9" })
      : await loadRatingsFile(join(args.dir, "ml-32m", "ratings.csv"), { split: "ratio:0.9" });
  const seconds = (performance.now() - started) / 1000;
  const rss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(
    `${JSON.stringify({ seconds, rss, ratings: data.train.size + data.test.size, users: data.userIds.size })}\n`,
  );
  process.exit(0);
}

const n = Number(args.ratings);
const dir = args.keep ?? (await mkdtemp(join(tmpdir(), "aerec-loader-")));
const folder = join(dir, "ml-32m");
const file = join(folder, "ratings.csv");
await mkdir(folder, { recursive: true });
if (!(await stat(file).catch(() => null))) {
  process.stderr.write(`writing ${n} synthetic ratings to ${file}\n`);
  const users = Math.round(200_948 * (n / 32_000_204));
  const items = Math.max(100, Math.round(87_585 * Math.sqrt(n / 32_000_204)));
  const all = generateRatings({
    nUsers: users,
    nItems: items,
    nRatings: n,
    minPerUser: 20,
    popularitySkew: 1,
    seed: 1,
  });
  const out = createWriteStream(file);
  out.write("userId,movieId,rating,timestamp\n");
  let chunk = "";
  for (let k = 0; k < all.size; k++) {
    // Half stars, as ML-32M's; timestamps in its range.
    const rating = Math.max(0.5, all.values[k] - (k % 2) * 0.5);
    chunk += `${all.users[k] + 1},${all.items[k] + 1},${rating},${1_000_000_000 + ((k * 7919) % 700_000_000)}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
      chunk = "";
    }
  }
  out.end(chunk);
  await new Promise((r) => out.once("finish", r));
  await writeFile(join(folder, "movies.csv"), "movieId,title,genres\n1,Synthetic (2000),Drama\n");
}
const bytes = (await stat(file)).size;

function measure(kind) {
  const out = execFileSync(process.execPath, [import.meta.filename, "--child", kind, "--dir", dir], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split("\n").at(-1));
}

const runs = Number(args.runs);
const results = { movielens: [], generic: [] };
for (let r = 0; r < runs; r++) {
  for (const kind of ["movielens", "generic"]) results[kind].push(measure(kind));
}
const gib = (b) => `${(b / 2 ** 30).toFixed(2)} GiB`;
console.log(machineLine(1));
console.log(
  `file: ${n} ratings, ${(bytes / 2 ** 20).toFixed(0)} MiB (ML-32M layout); median of ${runs} run(s)`,
);
const rows = {};
for (const kind of ["movielens", "generic"]) {
  const seconds = median(results[kind].map((x) => x.seconds));
  const rss = Math.max(...results[kind].map((x) => x.rss));
  rows[kind] = seconds;
  const label =
    kind === "movielens" ? "MovieLens CSV loader (--dataset ml-32m)" : "generic loader (--ratings FILE)";
  console.log(
    `${label.padEnd(42)} ${seconds.toFixed(2)} s   peak RSS ${gib(rss)}   ${results[kind][0].ratings} ratings`,
  );
}
console.log(`generic / MovieLens time: ${(rows.generic / rows.movielens).toFixed(2)}x (target <= 1.5x)`);
if (!args.keep) await rm(dir, { recursive: true, force: true });
