#!/usr/bin/env node
// The GLocal-K benchmark: aerec's glocal-k against the PyTorch port of the authors' model
// (bench/peers/glocal_k.py: dense matrices, SciPy L-BFGS-B), on ML-100K u1 with the authors' settings
// (two layers of 500, 30 pre-training and 60 fine-tuning epochs of 5 L-BFGS iterations, 5% of the training
// ratings held out to choose the epoch), each in its own process with the same threads. Prints each side's
// seconds, seconds per pre-training and fine-tuning epoch, test RMSE at the epoch validation chose, peak
// memory, and the ratios. Other data (--dataset, --split as aerec train takes them) gives the ML-1M-shaped
// figures: the port's dense matrices make its epochs long there, so fewer epochs give its per-epoch seconds.
//
// Usage: MOVIELENS_DIR=../shared/data node bench/glocal-k.mjs [--pretrain 30] [--finetune 60] [--threads 2]
//          [--dataset ml-100k] [--split u1]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createBackend, fitModel, loadData, predict } from "../dist/index.js";
import { glocalKKind } from "../dist/train/glocal-k-kind.js";
import { machineLine, run, writePeerRatings } from "./common.mjs";

const { values } = parseArgs({
  options: {
    pretrain: { type: "string", default: "30" },
    finetune: { type: "string", default: "60" },
    threads: { type: "string", default: "2" },
    dataset: { type: "string", default: "ml-100k" },
    split: { type: "string", default: "u1" },
    python: { type: "string", default: "python3" },
    /** "aerec": be aerec's side, in a process of its own (so that its peak memory is its own), and print JSON. */
    side: { type: "string" },
  },
});
const [pretrain, finetune] = [Number(values.pretrain), Number(values.finetune)];
const perEpoch = (h, from, to) =>
  h.slice(from, to).reduce((a, e) => a + e.seconds, 0) / Math.max(1, to - from);

if (values.side === "aerec") {
  const data = await loadData(values.dataset, { split: values.split, dataDir: process.env.MOVIELENS_DIR });
  const backend = createBackend("auto", Number(values.threads));
  // The port trains once: no refit on every training rating after the epoch is chosen.
  const settings = {
    ...glocalKKind.defaults,
    pretrainEpochs: pretrain,
    finetuneEpochs: finetune,
    refit: false,
  };
  const out = fitModel("glocal-k", data, { backend, settings });
  const p = predict(out.model, data.test);
  let s = 0;
  for (let k = 0; k < p.length; k++) s += (p[k] - data.test.values[k]) ** 2;
  const summary = {
    seconds: out.seconds,
    pretrainEpoch: perEpoch(out.history, 0, pretrain),
    finetuneEpoch: perEpoch(out.history, pretrain, pretrain + finetune),
    chosenEpoch: out.bestEpoch,
    testAtChosen: Math.sqrt(s / p.length),
    peakMemoryMiB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(summary));
  backend.close();
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), "aerec-bench-"));

const data = await loadData(values.dataset, { split: values.split, dataDir: process.env.MOVIELENS_DIR });
const [trainFile, testFile] = [join(dir, "train.tsv"), join(dir, "test.tsv")];
writePeerRatings(data.train, trainFile);
writePeerRatings(data.test, testFile);

const aerec = run("aerec glocal-k", process.execPath, [
  fileURLToPath(import.meta.url),
  ...[
    "--side",
    "aerec",
    "--pretrain",
    values.pretrain,
    "--finetune",
    values.finetune,
    "--threads",
    values.threads,
    "--dataset",
    values.dataset,
    "--split",
    values.split,
  ],
]);
const peer = run("PyTorch GLocal-K", values.python, [
  new URL("./peers/glocal_k.py", import.meta.url).pathname,
  trainFile,
  testFile,
  ...[
    "--pretrain-epochs",
    String(pretrain),
    "--finetune-epochs",
    String(finetune),
    "--threads",
    values.threads,
  ],
]);
peer.pretrainEpoch = perEpoch(peer.history, 0, pretrain);
peer.finetuneEpoch = perEpoch(peer.history, pretrain, pretrain + finetune);
rmSync(dir, { recursive: true, force: true });

console.log(machineLine(Number(values.threads)));
console.log(
  `${values.dataset} ${values.split}, ${pretrain} pre-training + ${finetune} fine-tuning epochs of 5 L-BFGS iterations`,
);
const row = (label, r) =>
  `${label.padEnd(18)} ${r.seconds.toFixed(1).padStart(7)} s  ${r.pretrainEpoch.toFixed(2).padStart(6)} s/pre-epoch  ${r.finetuneEpoch.toFixed(2).padStart(6)} s/fine-epoch  test RMSE ${r.testAtChosen.toFixed(4)} (epoch ${r.chosenEpoch})  peak ${r.peakMemoryMiB.toFixed(0)} MiB`;
console.log(row("aerec glocal-k", aerec));
console.log(row("PyTorch port", peer));
if (peer.bestTest !== undefined)
  console.log(`PyTorch port: best test epoch ${peer.bestTest.toFixed(4)}, last ${peer.lastTest.toFixed(4)}`);
console.log(
  `aerec is ${(peer.seconds / aerec.seconds).toFixed(2)}x faster end to end (pre-training ${(peer.pretrainEpoch / aerec.pretrainEpoch).toFixed(2)}x, fine-tuning ${(peer.finetuneEpoch / aerec.finetuneEpoch).toFixed(2)}x), peak memory ${(aerec.peakMemoryMiB / peer.peakMemoryMiB).toFixed(2)}x`,
);
