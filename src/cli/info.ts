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
      const parameters = Object.values(model.save().tensors).reduce((n, t) => n + t.data.length, 0);
      const summary = {
        ...rest,
        description: model.describe(),
        parameters,
        trainingRatings: model.train.size,
        moviesWithMetadata: header.movies.length,
        training: { ...training, history: undefined, epochs: training.history.length },
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      const metrics = header.metrics as {
        test?: { rmse?: number; mae?: number };
        ranking?: { ndcg?: number };
        rater?: { rmse?: number; mae?: number } | null;
      };
      const stars = model.ranksOnly ? metrics.rater : metrics.test;
      const ndcg = metrics.ranking?.ndcg;
      process.stdout.write(
        `${opts.modelFile}\n` +
          `  aerec model file version ${header.version}, model ${header.kind}\n` +
          `  ${model.describe()}\n` +
          `  ${parameters} parameters; trained on ${header.dataset} split ${header.split}: ` +
          `${header.nUsers} users, ${header.nItems} movies, ${summary.trainingRatings} ratings\n` +
          `${header.rater ? `  predicted stars from ${header.rater.kind}, saved beside it\n` : ""}` +
          `  rating scale ${header.scale.min}..${header.scale.max}` +
          `${stars?.rmse !== undefined ? `; test RMSE ${stars.rmse.toFixed(4)}, MAE ${stars.mae?.toFixed(4)}` : ""}` +
          `${ndcg !== undefined ? `; test NDCG@10 ${ndcg.toFixed(4)}` : ""}\n`,
      );
    });
}
