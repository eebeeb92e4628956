#!/usr/bin/env node
// Checks that PyTorch loads aerec's model files: for each file, writes aerec's raw outputs for 300 pairs,
// then bench/peers/load_model.py rebuilds the network in PyTorch from the file (safetensors package) and
// compares. Needs `pip install torch==2.13.0 safetensors`.
//
// Usage: node bench/pytorch-load.mjs MODEL.safetensors [MORE.safetensors ...] [--python python3]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AutoencoderModel, createBackend, loadModel, Ratings } from "../dist/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { python: { type: "string", default: "python3" } },
});
if (positionals.length === 0) {
  console.error("usage: node bench/pytorch-load.mjs MODEL.safetensors [...]");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "aerec-load-"));
let failed = 0;
try {
  for (const file of positionals) {
    const { model, userIds, itemIds } = await loadModel(file, createBackend());
    if (!(model instanceof AutoencoderModel)) {
      process.stdout.write(
        `${file}: a ${model.kind} model, not an autoencoder network PyTorch can rebuild\n`,
      );
      continue;
    }
    const pairs = Array.from({ length: 300 }, (_, k) => [(k * 37) % userIds.size, (k * 101) % itemIds.size]);
    const query = new Ratings(
      Int32Array.from(pairs, (p) => p[0]),
      Int32Array.from(pairs, (p) => p[1]),
      new Float32Array(pairs.length),
      userIds.size,
      itemIds.size,
    );
    const { csr, raw } = model.rawOutputsFor(query);
    const byUser = model.config.orientation === "user";
    const predictions = pairs.map(([u, i]) => {
      const [row, col] = byUser ? [u, i] : [i, u];
      for (let q = csr.indptr[row]; q < csr.indptr[row + 1]; q++) if (csr.indices[q] === col) return raw[q];
      return Number.NaN;
    });
    const expected = join(dir, "predictions.json");
    writeFileSync(expected, JSON.stringify({ pairs, predictions }));
    const child = spawnSync(values.python, ["bench/peers/load_model.py", file, expected], {
      encoding: "utf8",
    });
    process.stdout.write(`${file}: ${child.stdout.trim() || child.stderr.trim()}\n`);
    if (child.status !== 0) failed++;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed > 0 ? 1 : 0);
