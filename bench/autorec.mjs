#!/usr/bin/env node
// The AutoRec benchmark: aerec's sparse autorec-i against a dense PyTorch AutoRec (bench/peers/autorec.py),
// hidden 500, inputs offset by 15, the same objective, measured in the same run on the same machine, with
// both optimizers: full-batch L-BFGS (autorec-i's default, the paper's; an epoch is one iteration) and Adam
// on batches of 256 movies. Prints seconds per epoch (the median epoch, and the mean, which the first
// epoch's warm-up weighs on), their ratios, each whole run's wall time, aerec's sparse GFLOP/s and the peak
// memory of both; then the ML-32M-shaped epoch's peak memory.
//
// Usage: MOVIELENS_DIR=../shared/data node bench/autorec.mjs [--epochs 5] [--threads 2] [--skip-32m]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadData } from "../dist/index.js";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "5" },
    threads: { type: "string", default: "2" },
    python: { type: "string", default: "python3" },
    "skip-32m": { type: "boolean", default: false },
  },
});
const HIDDEN = 500;
/** autorec-i's default input offset, given to both sides. */
const INPUT_OFFSET = "15";
const dir = mkdtempSync(join(tmpdir(), "aerec-bench-"));

/** Runs a command that prints a JSON summary last; returns the summary with the run's wall seconds. */
function run(label, command, args) {
  console.error(`running ${label}`);
  const started = performance.now();
  const child = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (child.status !== 0) {
    console.error(`${label} failed (exit ${child.status})`);
    process.exit(1);
  }
  return {
    ...JSON.parse(child.stdout.trim().split("\n").at(-1)),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** The median of a list of numbers. */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Writes the training ratings in the peer's format (0-based indices). */
function writePeerRatings(data, file) {
  const { users, items, values: v, nUsers, nItems } = data.train;
  const lines = [`${nUsers} ${nItems}`];
  for (let k = 0; k < v.length; k++) lines.push(`${users[k]}\t${items[k]}\t${v[k]}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
}

const aerecArgs = (dataset, split, optimizer, epochs) => [
  "dist/cli/main.js",
  "train",
  ...["--model", "autorec-i", "--dataset", dataset, "--split", split, "--optimizer", optimizer],
  ...(optimizer === "adam" ? ["--lr", "0.001", "--batch-size", "256"] : []),
  ...["--lambda", "1", "--hidden", String(HIDDEN), "--input-offset", INPUT_OFFSET, "--epochs", epochs],
  ...["--validation", "0", "--patience", "0", "--no-refit", "--threads", values.threads, "--json"],
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
    for (const optimizer of ["lbfgs", "adam"]) {
      const peer = run(`PyTorch dense AutoRec on ${dataset}, ${optimizer}`, values.python, [
        "bench/peers/autorec.py",
        file,
        ...["--optimizer", optimizer, "--epochs", values.epochs, "--hidden", String(HIDDEN)],
        ...["--input-offset", INPUT_OFFSET, "--threads", values.threads],
      ]);
      const ours = run(
        `aerec autorec-i on ${dataset}, ${optimizer}`,
        process.execPath,
        aerecArgs(dataset, split, optimizer, values.epochs),
      );
      // Sparse work per gradient: encoder, decoder at observed entries, and three backward products, each
      // 2 flops per (observed rating x hidden unit); Adam adds ~10 flops per parameter per batch.
      const nnz = data.train.size;
      const params = 2 * data.train.nUsers * HIDDEN;
      const optimizerFlops = optimizer === "adam" ? Math.ceil(data.train.nItems / 256) * params * 10 : 0;
      const flops = 10 * nnz * HIDDEN + optimizerFlops;
      const [peerEpoch, ourEpoch] = [median(peer.epochSeconds), median(ours.epochSeconds)];
      rows.push({ dataset, optimizer, nnz, peer, ours, peerEpoch, ourEpoch, gflops: flops / ourEpoch / 1e9 });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nautorec-i, hidden ${HIDDEN}, ${values.threads} threads each, ${values.epochs} epochs: the median epoch, and ` +
    "the mean (with the first epoch's warm-up); lbfgs: full batch, an epoch is one iteration; adam: batches of 256 movies",
);
const header = [
  ["data", 16],
  ["optimizer", 9],
  ["ratings", 9],
  ["PyTorch s/ep", 13],
  ["aerec s/ep", 11],
  ["speed-up", 9],
  ["mean speed-up", 14],
  ["PyTorch run s", 14],
  ["aerec run s", 12],
  ["aerec GFLOP/s", 14],
  ["PyTorch MiB", 12],
  ["aerec MiB", 10],
];
console.log(header.map(([name, width], i) => (i < 2 ? name.padEnd(width) : name.padStart(width))).join(" "));
for (const r of rows) {
  const cells = [
    r.dataset,
    r.optimizer,
    String(r.nnz),
    r.peerEpoch.toFixed(3),
    r.ourEpoch.toFixed(3),
    `${(r.peerEpoch / r.ourEpoch).toFixed(1)}x`,
    `${(r.peer.secondsPerEpoch / r.ours.secondsPerEpoch).toFixed(1)}x`,
    r.peer.wallSeconds.toFixed(1),
    r.ours.wallSeconds.toFixed(1),
    r.gflops.toFixed(1),
    r.peer.peakMemoryMiB.toFixed(0),
    r.ours.peakMemoryMiB.toFixed(0),
  ];
  console.log(cells.map((c, i) => (i < 2 ? c.padEnd(header[i][1]) : c.padStart(header[i][1]))).join(" "));
}
const perIteration = (run) => (run.evaluations / Number(values.epochs)).toFixed(1);
const perEvaluation = (run) => (run.secondsPerEpoch * Number(values.epochs)) / run.evaluations;
const lbfgsRows = rows.filter((r) => r.optimizer === "lbfgs");
console.log(
  `Objective evaluations per L-BFGS iteration (same strong-Wolfe line search), PyTorch / aerec: ` +
    `${lbfgsRows.map((r) => `${perIteration(r.peer)} / ${perIteration(r.ours)}`).join(" and ")}. ` +
    "PyTorch's step() evaluates\nthe objective at its start again, where aerec keeps the line search's last value and gradient. " +
    "Per evaluation (mean):\n" +
    lbfgsRows
      .map((r) => {
        const [peer, ours] = [perEvaluation(r.peer), perEvaluation(r.ours)];
        return `  ${r.dataset}: PyTorch ${peer.toFixed(3)} s, aerec ${ours.toFixed(3)} s, ${(peer / ours).toFixed(1)}x`;
      })
      .join("\n"),
);
console.log("Run seconds are whole processes: loading, building, training, testing.");
console.log(
  "GFLOP/s counts the sparse products and the optimizer; the 128-bit WebAssembly SIMD peak of one core is\n" +
    "about 4 lanes x 2 (separate multiply and add) x 2 ports x clock, ~48 GFLOP/s at 3 GHz, per thread.",
);

if (!values["skip-32m"]) {
  const big = run(
    "aerec autorec-i, one epoch on synthetic:ml-32m",
    process.execPath,
    aerecArgs("synthetic:ml-32m", "ratio:0.9", "adam", "1"),
  );
  console.log(
    `\nsynthetic:ml-32m (200,948 users, 87,585 movies, 32,000,204 ratings): one autorec-i epoch in ` +
      `${big.secondsPerEpoch.toFixed(1)}s, peak memory ${(big.peakMemoryMiB / 1024).toFixed(2)} GiB (target: under 8 GiB)`,
  );
}
