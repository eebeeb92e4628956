#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerPredict } from "./batch.js";
import { registerDownload } from "./download.js";
import { registerEvaluate } from "./evaluate.js";
import { registerInfo } from "./info.js";
import { registerRecommend } from "./recommend.js";
import { registerServe } from "./serve.js";
import { registerSplit } from "./split.js";
import { registerTrain } from "./train.js";
import { registerTune } from "./tune.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

const program = new Command("aerec")
  .description("Autoencoder recommenders for MovieLens ratings: train, evaluate and recommend.")
  .version(pkg.version)
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();
registerTrain(program);
registerTune(program);
registerRecommend(program);
registerPredict(program);
registerSplit(program);
registerEvaluate(program);
registerInfo(program);
registerServe(program);
registerDownload(program);
program.addHelpText(
  "after",
  `
Data: MovieLens from GroupLens (https://grouplens.org/datasets/movielens/). aerec reads a folder you name
(--data-dir or MOVIELENS_DIR) or its download cache; "aerec download ml-100k" fills the cache. The data is
licensed for research use; cite Harper & Konstan, ACM TiiS 5(4), 2015.

Start with:
  aerec train --dataset ml-100k --split u1 --show 1`,
);

// Output piped into a reader that stops early (`aerec train --help | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`aerec: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
