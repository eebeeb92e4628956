#!/usr/bin/env node
// The AutoRec benchmark: aerec's sparse autorec-i against a dense PyTorch AutoRec (bench/peers/autorec.py),
// hidden 500, inputs offset by 15, the same objective, measured in the same run on the same machine, with
// both optimizers: full-batch L-BFGS (autorec-i's default, the paper's; an epoch is one iteration) and Adam
// on batches of 256 movies. Prints seconds per epoch (the median epoch, and the mean, which the first
// epoch's warm-up weighs on), their ratios, each whole run's wall time, aerec's sparse GFLOP/s and the peak
// memory of both; then, from a profiled run (train --profile), where aerec's epoch goes: each kernel's
// seconds and the bytes of weight rows and optimizer state it moves, against this machine's caches; then
// the ML-32M-shaped epoch's time and peak memory.
//
// Usage: MOVIELENS_DIR=../shared/data node bench/autorec.mjs [--epochs 10] [--threads 2] [--skip-32m]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadData } from "../dist/index.js";
import { machineLine, median, run, writePeerRatings } from "./common.mjs";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "10" },
    threads: { type: "string", default: "2" },
    python: { type: "string", default: "python3" },
    "skip-32m": { type: "boolean", default: false },
  },
});
const HIDDEN = 500;
/** autorec-i's default input offset, given to both sides. */
const INPUT_OFFSET = "15";
const dir = mkdtempSync(join(tmpdir(), "aerec-bench-"));

/**
 * Distinct (row, column) weight rows one pass over the training rows touches: the sum over batches of 256
 * rows (movies; in order for L-BFGS, shuffled for Adam) of the distinct columns (users) they rate.
 */
function weightRowsPerPass(train, shuffled) {
  const byItem = Array.from({ length: train.nItems }, () => []);
  for (let k = 0; k < train.size; k++) byItem[train.items[k]].push(train.users[k]);
  const rows = byItem.map((_, i) => i).filter((i) => byItem[i].length > 0);
  if (shuffled) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
  }
  let total = 0;
  for (let at = 0; at < rows.length; at += 256) {
    const seen = new Set();
    for (const i of rows.slice(at, at + 256)) for (const u of byItem[i]) seen.add(u);
    total += seen.size;
  }
  return { total, batches: Math.ceil(rows.length / 256) };
}

/** Bytes each main kernel moves beyond L2 in one pass: the weight rows it reads or updates, and Adam's state. */
function trafficPerPass(data, optimizer) {
  const { total, batches } = weightRowsPerPass(data.train, optimizer === "adam");
  const row = HIDDEN * 4;
  const params = 2 * data.train.nUsers * HIDDEN + HIDDEN + data.train.nUsers;
  return {
    encodeColumns: total * row,
    encodeColumnsBackward: 2 * total * row,
    decodeColumnsLoss: 3 * total * row,
    // p, g, m and v read, and written back (the gradient as zeros).
    adamStep: optimizer === "adam" ? batches * params * 32 : 0,
  };
}

/** Where a profiled aerec run's epoch went, with each main kernel's implied memory traffic. */
function describeProfile(dataset, optimizer, data, profiled) {
  const passes = optimizer === "lbfgs" ? profiled.evaluations : profiled.epochs;
  const epochSeconds = profiled.profiledSeconds;
  const traffic = trafficPerPass(data, optimizer);
  const lines = [
    `${dataset}, ${optimizer}: ${(epochSeconds / profiled.epochs).toFixed(3)} s an epoch (profiled; ${(passes / profiled.epochs).toFixed(1)} passes over the ratings each)`,
  ];
  let timed = 0;
  for (const e of profiled.profile) {
    timed += e.seconds;
    if (e.seconds / epochSeconds < 0.01) continue;
    const bytes = traffic[e.name];
    const moved = bytes
      ? `  ${((bytes * passes) / profiled.epochs / 2 ** 20).toFixed(0).padStart(5)} MiB/epoch  ${((bytes * passes) / e.seconds / 1e9).toFixed(1).padStart(5)} GB/s`
      : "";
    lines.push(
      `  ${e.name.padEnd(22)} ${(e.seconds / profiled.epochs).toFixed(4)} s ${((100 * e.seconds) / epochSeconds).toFixed(0).padStart(3)}%${moved}`,
    );
  }
  lines.push(
    `  ${"JavaScript between".padEnd(22)} ${((epochSeconds - timed) / profiled.epochs).toFixed(4)} s`,
  );
  return lines.join("\n");
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
    writePeerRatings(data.train, file);
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
      // Timed apart: the profile's clock reads would weigh on the figures above.
      const profiled = run(`aerec autorec-i on ${dataset}, ${optimizer}, profiled`, process.execPath, [
        ...aerecArgs(dataset, split, optimizer, "3"),
        "--profile",
      ]);
      rows.push({
        ...{ dataset, optimizer, nnz, peer, ours, peerEpoch, ourEpoch, gflops: flops / ourEpoch / 1e9 },
        breakdown: describeProfile(dataset, optimizer, data, profiled),
      });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n${machineLine(values.threads)}`);
console.log(
  `autorec-i, hidden ${HIDDEN}, ${values.threads} threads each, ${values.epochs} epochs: the median epoch, and ` +
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
    "4 lanes x 2 ports x clock multiply-adds: ~48 GFLOP/s at 3 GHz with the product and sum apart (wasm-simd),\n" +
    "~96 fused (wasm-relaxed-simd on a CPU with FMA), per thread.",
);
console.log(
  `\nWhere aerec's epoch goes (${machineLine(values.threads)}).\n` +
    "A batch's hidden layer and its gradient (256 x 500 floats, 500 KiB each) stay in L2; the weight rows a\n" +
    "batch touches (2 KiB each, once per batch) and Adam's four arrays (6M floats each) stream from L3 or DRAM:\n" +
    "MiB/epoch counts those bytes, and GB/s is what the kernel moved them at.",
);
for (const r of rows) console.log(r.breakdown);

if (!values["skip-32m"]) {
  const big = run(
    "aerec autorec-i, one epoch on synthetic:ml-32m",
    process.execPath,
    // Without the test metrics: scoring 200,948 users against 87,585 movies takes longer than the epoch.
    [...aerecArgs("synthetic:ml-32m", "ratio:0.9", "adam", "1"), "--skip-test"],
  );
  console.log(
    `\nsynthetic:ml-32m (200,948 users, 87,585 movies, 32,000,204 ratings): one autorec-i Adam epoch in ` +
      `${big.secondsPerEpoch.toFixed(1)}s, peak memory ${(big.peakMemoryMiB / 1024).toFixed(2)} GiB (target: under 8 GiB)`,
  );
}
