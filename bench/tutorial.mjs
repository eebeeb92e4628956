#!/usr/bin/env node
// The tutorial benchmark: the PyTorch tutorial's own code (bench/peers/tutorial.py) and
// `aerec train --preset tutorial`, both 200 epochs on ML-100K u1, in the same run on the same machine.
// Prints both times, their ratio, both metrics and peak memory.
//
// Usage: MOVIELENS_DIR=../shared/data node bench/tutorial.mjs [--epochs 200] [--threads 2] [--python python3]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "200" },
    threads: { type: "string", default: "2" },
    python: { type: "string", default: "python3" },
  },
});
const dataDir = process.env.MOVIELENS_DIR;
if (!dataDir) {
  console.error("set MOVIELENS_DIR to the folder that holds ml-100k/ (e.g. ../shared/data)");
  process.exit(2);
}

function run(label, command, args) {
  console.error(`running ${label}: ${command} ${args.join(" ")}`);
  const started = performance.now();
  const child = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (child.status !== 0) {
    console.error(
      `${label} failed (exit ${child.status}); is PyTorch installed? pip install torch==2.13.0 pandas`,
    );
    process.exit(1);
  }
  const summary = JSON.parse(child.stdout.trim().split("\n").at(-1));
  return { ...summary, wall: (performance.now() - started) / 1000 };
}

const peer = run("PyTorch tutorial", values.python, [
  "bench/peers/tutorial.py",
  join(dataDir, "ml-100k"),
  "--epochs",
  values.epochs,
  "--threads",
  values.threads,
]);
const aerec = run("aerec", process.execPath, [
  "dist/cli/main.js",
  "train",
  ...["--dataset", "ml-100k", "--split", "u1", "--model", "sae", "--preset", "tutorial"],
  ...["--epochs", values.epochs, "--threads", values.threads, "--data-dir", dataDir, "--json"],
]);

const row = (name, r) =>
  `${name.padEnd(18)} ${r.wall.toFixed(1).padStart(8)} ${String(r.nTrain).padStart(7)} ${String(r.nTest).padStart(6)} ` +
  `${r.test.rmse.toFixed(4).padStart(7)} ${r.test.tutorialLoss.toFixed(4).padStart(9)} ${r.peakMemoryMiB.toFixed(0).padStart(8)}`;
console.log(`ML-100K u1, ${values.epochs} epochs, ${values.threads} threads each`);
console.log(
  `${"".padEnd(18)} ${"wall s".padStart(8)} ${"nTrain".padStart(7)} ${"nTest".padStart(6)} ${"RMSE".padStart(7)} ${"tut. loss".padStart(9)} ${"peak MiB".padStart(8)}`,
);
console.log(row(`PyTorch ${peer.torch}`, peer));
console.log(row(`aerec (${aerec.kernels})`, aerec));
console.log(
  `aerec is ${(peer.wall / aerec.wall).toFixed(1)}x faster end to end (training alone: ${(peer.trainSeconds / aerec.trainSeconds).toFixed(1)}x)`,
);
