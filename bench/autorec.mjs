#!/usr/bin/env node
// The AutoRec benchmark: aerec's sparse autorec-i against a dense PyTorch AutoRec (bench/peers/autorec.py),
// hidden 500, Adam, batches of 256 movies, the same objective, measured in the same run on the same
// machine. Prints seconds per epoch, their ratio, aerec's sparse GFLOP/s and peak memory of both; then
// the ML-32M-shaped epoch's peak memory.
//
// Usage: MOVIELENS_DIR=../shared/data node bench/autorec.mjs [--epochs 3] [--threads 2] [--skip-32m]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadData } from "../dist/index.js";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "3" },
    threads: { type: "string", default: "2" },
    python: { type: "string", default: "python3" },
    "skip-32m": { type: "boolean", default: false },
  },
});
const HIDDEN = 500;
const dir = mkdtempSync(join(tmpdir(), "aerec-bench-"));

function run(label, command, args) {
  console.error(`running ${label}`);
  const child = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (child.status !== 0) {
    console.error(`${label} failed (exit ${child.status})`);
    process.exit(1);
  }
  return JSON.parse(child.stdout.trim().split("\n").at(-1));
}

/** Writes the training ratings in the peer's format (0-based indices). */
function writePeerRatings(data, file) {
  const { users, items, values: v, nUsers, nItems } = data.train;
  const lines = [`${nUsers} ${nItems}`];
  for (let k = 0; k < v.length; k++) lines.push(`${users[k]}\t${items[k]}\t${v[k]}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
}

const aerecArgs = (dataset, split, epochs) => [
  "dist/cli/main.js",
  "train",
  ...["--model", "autorec-i", "--dataset", dataset, "--split", split, "--optimizer", "adam", "--lr", "0.001"],
  ...["--lambda", "1", "--batch-size", "256", "--hidden", String(HIDDEN), "--epochs", epochs],
  ...["--validation", "0", "--patience", "0", "--threads", values.threads, "--json"],
];

const rows = [];
try {
  const cases = [["synthetic:ml-1m", "ratio:0.9"]];
  if (process.env.MOVIELENS_DIR) cases.push(["ml-100k", "u1"]);
  else console.error("MOVIELENS_DIR is not set: ML-100K is skipped");
  for (const [dataset, split] of cases) {
    const data = await loadData(dataset, { split });
    const file = join(dir, `${dataset.replace(/\W/g, "_")}.tsv`);
    writePeerRatings(data, file);
    const peer = run(`PyTorch dense AutoRec on ${dataset}`, values.python, [
      "bench/peers/autorec.py",
      file,
      ...["--epochs", values.epochs, "--hidden", String(HIDDEN), "--threads", values.threads],
    ]);
    const ours = run(
      `aerec autorec-i on ${dataset}`,
      process.execPath,
      aerecArgs(dataset, split, values.epochs),
    );
    // Sparse work per epoch: encoder, decoder at observed entries, and three backward products, each
    // 2 flops per (observed rating x hidden unit); plus Adam over every parameter once per batch.
    const nnz = data.train.size;
    const nBatches = Math.ceil(data.train.nItems / 256);
    const params = 2 * data.train.nUsers * HIDDEN;
    const flops = 10 * nnz * HIDDEN + nBatches * params * 10;
    rows.push({ dataset, nnz, peer, ours, gflops: flops / ours.secondsPerEpoch / 1e9 });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nautorec-i, hidden ${HIDDEN}, Adam, batch 256 movies, ${values.threads} threads each, median of ${values.epochs} epochs`,
);
console.log(
  `${"data".padEnd(16)} ${"ratings".padStart(9)} ${"PyTorch s/ep".padStart(13)} ${"aerec s/ep".padStart(11)} ` +
    `${"speed-up".padStart(9)} ${"aerec GFLOP/s".padStart(14)} ${"PyTorch MiB".padStart(12)} ${"aerec MiB".padStart(10)}`,
);
for (const r of rows) {
  console.log(
    `${r.dataset.padEnd(16)} ${String(r.nnz).padStart(9)} ${r.peer.secondsPerEpoch.toFixed(3).padStart(13)} ` +
      `${r.ours.secondsPerEpoch.toFixed(3).padStart(11)} ${`${(r.peer.secondsPerEpoch / r.ours.secondsPerEpoch).toFixed(1)}x`.padStart(9)} ` +
      `${r.gflops.toFixed(1).padStart(14)} ${r.peer.peakMemoryMiB.toFixed(0).padStart(12)} ${r.ours.peakMemoryMiB.toFixed(0).padStart(10)}`,
  );
}
console.log(
  "GFLOP/s counts the sparse products and the optimizer; the 128-bit WebAssembly SIMD peak of one core is\n" +
    "about 4 lanes x 2 (separate multiply and add) x 2 ports x clock, ~48 GFLOP/s at 3 GHz, per thread.",
);

if (!values["skip-32m"]) {
  const big = run(
    "aerec autorec-i, one epoch on synthetic:ml-32m",
    process.execPath,
    aerecArgs("synthetic:ml-32m", "ratio:0.9", "1"),
  );
  console.log(
    `\nsynthetic:ml-32m (200,948 users, 87,585 movies, 32,000,204 ratings): one autorec-i epoch in ` +
      `${big.secondsPerEpoch.toFixed(1)}s, peak memory ${(big.peakMemoryMiB / 1024).toFixed(2)} GiB (target: under 8 GiB)`,
  );
}
