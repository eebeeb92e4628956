import type { Command } from "commander";
import { createBackend } from "../kernels/index.js";
import { loadModel } from "../store/model-file.js";

/** `aerec info`. */
export function registerInfo(program: Command): void {
  program
    .command("info")
    .description("print what a model file holds")
    .requiredOption("--model-file <file>", "a model saved by aerec train --save")
    .option("--json", "print the header as JSON")
    .action(async (opts: { modelFile: string; json?: boolean }) => {
      const { header, model } = await loadModel(opts.modelFile, createBackend("reference"));
      const { movies: _movies, training, ...rest } = header;
      const summary = {
        ...rest,
        parameters: model.network.params.length,
        trainingRatings: model.train.size,
        moviesWithMetadata: header.movies.length,
        training: { ...training, history: undefined },
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      const c = header.config;
      const test = (header.metrics as { test?: { rmse?: number; mae?: number } }).test;
      process.stdout.write(
        `${opts.modelFile}\n` +
          `  aerec model file version ${header.version}, model ${header.kind}\n` +
          `  layers ${model.network.sizes.join("-")} (${c.orientation}-based), ${c.activation}, ` +
          `output ${c.outputActivation}, inputs ${c.inputScaling}` +
          `${c.inputOffset ? `, input offset ${c.inputOffset}` : ""}${c.centered ? ", centred" : ""}\n` +
          `  ${summary.parameters} parameters; trained on ${header.dataset} split ${header.split}: ` +
          `${header.nUsers} users, ${header.nItems} movies, ${summary.trainingRatings} ratings\n` +
          `  rating scale ${header.scale.min}..${header.scale.max}` +
          `${test?.rmse !== undefined ? `; test RMSE ${test.rmse.toFixed(4)}, MAE ${test.mae?.toFixed(4)}` : ""}\n`,
      );
    });
}
