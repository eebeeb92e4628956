#!/usr/bin/env node
// The EASE benchmark: aerec's `ease` fit (the Gram matrix of the positives, the blocked SPD inverse on its
// WebAssembly SIMD kernels, B) against NumPy/SciPy's closed form (bench/peers/ease.py, LAPACK's inverse),
// with the same positives (ratings >= 4) and the same lambda, in the same run: seconds from X to B, their
// ratio, and the largest difference between the two B matrices. On ML-100K u1 and on a synthetic shape with
// 10,000 items.
//
// Usage: MOVIELENS_DIR=../shared/data node bench/ease.mjs [--threads 2] [--lambda 500] [--items 10000]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createBackend, easeKind, loadData } from "../dist/index.js";
import { machineLine } from "./common.mjs";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: "2" },
    lambda: { type: "string", default: "500" },
    items: { type: "string", default: "10000" },
    python: { type: "string", default: "python3" },
  },
});
const lambda = Number(values.lambda);
const threads = Number(values.threads);
const dir = mkdtempSync(join(tmpdir(), "aerec-ease-"));
// NumPy's OpenBLAS runs its own kernels for this CPU: the variables this machine sets for older OpenBLAS
// builds slow it down, so the peer runs without them.
const peerEnv = { ...process.env, OPENBLAS_NUM_THREADS: values.threads, OMP_NUM_THREADS: values.threads };
delete peerEnv.OPENBLAS_CORETYPE;
delete peerEnv.OPENBLAS_L2_SIZE;

const cases = [];
if (process.env.MOVIELENS_DIR) cases.push(["ml-100k", "u1"]);
else console.error("MOVIELENS_DIR is not set: ML-100K is skipped");
const nItems = Number(values.items);
cases.push([`synthetic:users=${2 * nItems},items=${nItems},ratings=${200 * nItems},min=20`, "ratio:0.9"]);

const rows = [];
try {
  for (const [dataset, split] of cases) {
    const data = await loadData(dataset, { split });
    const { users, items, values: v } = data.train;
    const pairs = [];
    for (let k = 0; k < v.length; k++) if (v[k] >= 4) pairs.push(users[k], items[k]);
    const positivesFile = join(dir, "positives.i32");
    writeFileSync(positivesFile, Buffer.from(Int32Array.from(pairs).buffer));
    const backend = createBackend("auto", threads);
    const settings = { ...easeKind.override({ lambda, positiveFrom: 4 }), otherWeights: [0] };
    console.error(`aerec ease on ${dataset} (${data.train.nItems} items)`);
    const started = performance.now();
    const { model } = easeKind.fit(data, settings, { backend });
    const seconds = (performance.now() - started) / 1000;
    backend.close();
    const bFile = join(dir, "b.f32");
    writeFileSync(
      bFile,
      Buffer.from(model.weights.buffer, model.weights.byteOffset, model.weights.byteLength),
    );
    console.error(`NumPy on ${dataset}`);
    const peer = spawnSync(
      values.python,
      [
        "bench/peers/ease.py",
        positivesFile,
        String(data.train.nUsers),
        String(data.train.nItems),
        String(lambda),
        bFile,
      ],
      { encoding: "utf8", env: peerEnv, stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 24 },
    );
    if (peer.status !== 0) throw new Error(`the NumPy peer failed (exit ${peer.status})`);
    const p = JSON.parse(peer.stdout.trim().split("\n").at(-1));
    rows.push({ dataset, nItems: data.train.nItems, positives: pairs.length / 2, seconds, ...p });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\n${machineLine(threads)}; NumPy ${rows[0]?.numpy}\n` +
    `EASE fit from the positives (ratings >= 4) to B, lambda ${lambda}, ${threads} threads each`,
);
const header = [
  "data",
  "items",
  "positives",
  "NumPy f64 s",
  "NumPy f32 s",
  "aerec s",
  "vs f64",
  "vs f32",
  "max |dB|",
  "max |B|",
];
console.log(header.join("  "));
for (const r of rows) {
  console.log(
    [
      r.dataset,
      r.nItems,
      r.positives,
      r.seconds64.toFixed(2),
      r.seconds32.toFixed(2),
      r.seconds.toFixed(2),
      `${(r.seconds64 / r.seconds).toFixed(2)}x`,
      `${(r.seconds32 / r.seconds).toFixed(2)}x`,
      r.maxAbsDiff.toExponential(2),
      r.maxAbsB.toFixed(3),
    ].join("  "),
  );
}
console.log(
  "A ratio above 1x: aerec is faster. aerec computes in float32; max |dB| is against NumPy's float64 B.",
);
