import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { DATASET_NAMES, relevantFrom } from "../data/datasets.js";
import type { LoadedData } from "../data/load.js";
import { holdOutUsers } from "../data/splits.js";
import { barPanels } from "../eval/charts.js";
import {
  METRIC_KEYS,
  type MetricKey,
  measure,
  measureHeldOut,
  type RunResult,
  runOne,
  summarize,
} from "../eval/compare.js";
import { chartBytes, ensureChartFormat } from "../eval/png.js";
import { type Backend, createBackend, type KernelChoice } from "../kernels/index.js";
import type { Model } from "../model/model.js";
import { BLEND_MEMBERS, fitBlend } from "../train/fit-blend.js";
import { fitModel, MODEL_KINDS, MODEL_REGISTRY, modelKind } from "../train/registry.js";
import { addFileOptions, loadOrDownload, type SourceFlags } from "./data-flags.js";
import { intArg, kernelsOption, numberArg } from "./options.js";
import { ProgressBar } from "./progress.js";

interface EvaluateFlags extends SourceFlags {
  dataset: string;
  minItemRatings?: number;
  holdoutUsers?: number;
  models: string;
  blend: string;
  folds?: string;
  split?: string;
  repeats: number;
  k: number;
  /** Relevant test ratings start here (default: 4 stars, moved to the data's scale). */
  threshold?: number;
  seed: number;
  threads: number;
  kernels: KernelChoice;
  dataDir?: string;
  download: boolean;
  json?: boolean;
  csv?: string;
  plot?: string;
}

/** The splits to run: "u1..u5" or "u1,u3" folds, or `--split S --repeats N` (seeds seed..seed+N-1). */
function splitsFrom(flags: EvaluateFlags): { split?: string; seed: number }[] {
  // Fixed train and test files are the one split.
  if (flags.train || flags.test) return [{ seed: flags.seed }];
  if (flags.folds) {
    const range = /^u([1-5])\.\.u([1-5])$/.exec(flags.folds);
    const names = range
      ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => `u${Number(range[1]) + i}`)
      : flags.folds.split(",");
    return names.map((split) => ({ split, seed: flags.seed }));
  }
  const split = flags.split ?? "ratio:0.9";
  return Array.from({ length: flags.repeats }, (_, i) => ({ split, seed: flags.seed + i }));
}

const LABELS: Record<MetricKey, (k: number) => string> = {
  rmse: () => "RMSE",
  mae: () => "MAE",
  precision: (k) => `Precision@${k}`,
  recall: (k) => `Recall@${k}`,
  ndcg: (k) => `NDCG@${k}`,
  recall20: () => "Recall@20",
  recall50: () => "Recall@50",
  ndcg100: () => "NDCG@100",
  map: (k) => `MAP@${k}`,
  hitRate: (k) => `HitRate@${k}`,
  mrr: (k) => `MRR@${k}`,
  coverage: (k) => `Coverage@${k}`,
  fitSeconds: () => "fit s",
  testSeconds: () => "test s",
};

/** The comma-separated names in `list`, each one of `allowed` (else an error naming the flag). */
function namesFrom<T extends string>(list: string, allowed: readonly T[], flag: string): T[] {
  const names = list.split(",").map((m) => m.trim());
  const unknown = names.filter((m) => !(allowed as readonly string[]).includes(m));
  if (unknown.length > 0)
    throw new Error(`${flag}: unknown model ${unknown.join(", ")}; choose from ${allowed.join(", ")}`);
  return names as T[];
}

/** A model fitted ahead of its run, with the seconds it took. */
type Prefitted = Map<string, { model: Model; seconds: number }>;

/** Fits the blend on one split, says what its validation ratings said, and returns it and its members. */
function fitSplitBlend(
  data: LoadedData,
  members: string[],
  flags: EvaluateFlags,
  seed: number,
  say: (s: string) => void,
  onMember: (name: string) => void,
): { fitted: Prefitted; backend: Backend } {
  const backend = createBackend(flags.kernels, flags.threads);
  const outcome = fitBlend(data, { members, seed }, { backend, onMember, kinds: modelKind });
  const { model: blend, seconds } = outcome;
  const weights = blend.members.map((m, i) => `${m.kind} ${blend.weights[i + 1].toFixed(3)}`).join(", ");
  say(
    `\nblend on ${data.split}: validation RMSE ${outcome.validationRmse.toFixed(4)} (weights cross-validated), ` +
      `members ${outcome.members.map((m) => `${m.name} ${m.validationRmse.toFixed(4)}`).join(", ")}\n` +
      `  weights: intercept ${blend.weights[0].toFixed(3)}, ${weights}\n`,
  );
  const fitted: Prefitted = new Map([["blend", { model: blend, seconds }]]);
  outcome.members.forEach(({ name, outcome: member, seconds: memberSeconds }) => {
    fitted.set(name, { model: member.model, seconds: memberSeconds });
  });
  return { fitted, backend };
}

/**
 * Strong generalisation on one split: its training and test ratings together, less `--holdout-users`
 * users, train every model; each held-out user's fold-in positives then stand for a new person's ratings.
 */
function heldOutRuns(
  data: LoadedData,
  models: string[],
  flags: EvaluateFlags,
  seed: number,
  ranking: { k: number; threshold: number },
  say: (s: string) => void,
): RunResult[] {
  const { train, heldOut } = holdOutUsers(
    data.train.concat(data.test),
    flags.holdoutUsers!,
    ranking.threshold,
    seed,
  );
  say(
    `${data.dataset} seed ${seed}: ${heldOut.length} users held out whole (80% of each one's positives folded in, ` +
      `20% to find), models trained on the other users' ${train.size} ratings\n`,
  );
  return models.map((name) => {
    const backend = createBackend(flags.kernels, flags.threads);
    try {
      const started = performance.now();
      const { model } = fitModel(name, { train, scale: data.scale }, { backend, seed });
      const seconds = (performance.now() - started) / 1000;
      return measureHeldOut(name, model, heldOut, `${data.split} held-out seed ${seed}`, ranking, seconds);
    } finally {
      backend.close();
    }
  });
}

async function runEvaluate(flags: EvaluateFlags): Promise<void> {
  const say = (s: string) => (flags.json ? process.stderr : process.stdout).write(s);
  ensureChartFormat(flags.plot);
  const models = namesFrom(flags.models, MODEL_KINDS, "--models");
  const blendMembers = namesFrom(
    flags.blend,
    MODEL_KINDS.filter((k) => k !== "blend"),
    "--blend",
  );
  const splits = splitsFrom(flags);
  let ranking = { k: flags.k, threshold: flags.threshold ?? 4 };
  const runs: RunResult[] = [];
  const bar = new ProgressBar("run", process.stderr);
  const total = splits.length * models.length;
  let datasetName = flags.dataset;
  for (const { split: asked, seed } of splits) {
    const data = await loadOrDownload({ ...flags, split: asked, seed }, say);
    ranking = { k: flags.k, threshold: flags.threshold ?? relevantFrom(data.scale) };
    datasetName = data.dataset;
    const split = data.split;
    if (flags.holdoutUsers !== undefined) {
      runs.push(...heldOutRuns(data, models, flags, seed, ranking, say));
      bar.update({ done: runs.length, total, fields: { split } });
      continue;
    }
    // The blend's members are the very models their own rows measure, so they are fitted once.
    const fitting = (name: string) =>
      bar.update({ done: runs.length, total, fields: { [`blend ${split}`]: `fitting ${name}` } });
    const blended = models.includes("blend")
      ? fitSplitBlend(data, blendMembers, flags, seed, say, fitting)
      : undefined;
    try {
      for (const model of models) {
        const prefitted = blended?.fitted.get(model);
        if (prefitted) runs.push(measure(model, prefitted.model, data, ranking, prefitted.seconds));
        else {
          const backend = createBackend(flags.kernels, flags.threads);
          try {
            runs.push(runOne(model, data, backend, ranking, seed));
          } finally {
            backend.close();
          }
        }
        const last = runs[runs.length - 1];
        bar.update({
          done: runs.length,
          total,
          fields: {
            [`${model} ${split}`]: Number.isNaN(last.rmse)
              ? `NDCG@${flags.k} ${last.ndcg.toFixed(4)}`
              : `RMSE ${last.rmse.toFixed(4)}`,
          },
        });
      }
    } finally {
      blended?.backend.close();
    }
  }
  const table = summarize(runs);
  const header = ["model", ...METRIC_KEYS.map((m) => LABELS[m](flags.k))];
  const rows = table.map((t) => [
    t.model,
    ...METRIC_KEYS.map((m) => {
      const { mean, std } = t.metrics[m];
      const digits = m.endsWith("Seconds") ? 2 : 4;
      // Top-N models predict no ratings, and held-out users have none to predict.
      if (Number.isNaN(mean)) return "-";
      return splits.length > 1 ? `${mean.toFixed(digits)} ± ${std.toFixed(digits)}` : mean.toFixed(digits);
    }),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  say(
    `\n${datasetName}, ${splits.length} split${splits.length > 1 ? "s" : ""} (${[...new Set(runs.map((r) => r.split))].join(", ")})` +
      `${splits.length > 1 ? ": mean ± std" : ""}; relevant = test rating >= ${ranking.threshold}\n`,
  );
  for (const r of [header, ...rows])
    say(`${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")}\n`);
  if (flags.csv) {
    const lines = [
      ["model", "split", ...METRIC_KEYS].join(","),
      ...runs.map((r) => [r.model, r.split, ...METRIC_KEYS.map((m) => r[m])].join(",")),
    ];
    await writeFile(flags.csv, `${lines.join("\n")}\n`);
    say(`wrote every run to ${flags.csv}\n`);
  }
  if (flags.plot) {
    const shown: MetricKey[] = ["rmse", "mae", "ndcg", "precision", "recall", "coverage"];
    const svg = barPanels({
      title: `${datasetName}: ${splits.length} split${splits.length > 1 ? "s, mean ± std" : ""}`,
      groups: table.map((t) => t.model),
      panels: shown.map((m) => ({
        title: LABELS[m](flags.k),
        values: table.map((t) => t.metrics[m]),
        better: m === "rmse" || m === "mae" ? ("lower" as const) : ("higher" as const),
      })),
    });
    await writeFile(flags.plot, chartBytes(flags.plot, svg));
    say(`wrote the chart to ${flags.plot}\n`);
  }
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ dataset: datasetName, k: flags.k, threshold: ranking.threshold, summary: table, runs })}\n`,
    );
}

/** `aerec evaluate`. */
export function registerEvaluate(program: Command): void {
  addFileOptions(program.command("evaluate"))
    .description("compare models over folds or repeated splits: rating and ranking metrics, mean ± std")
    .option("--dataset <name>", `${DATASET_NAMES.join(", ")}, or synthetic:SHAPE`, "ml-100k")
    .option("--models <list>", `comma-separated, from ${MODEL_KINDS.join(", ")}`, MODEL_KINDS.join(","))
    .option(
      "--blend <list>",
      `the models the blend combines, from ${MODEL_KINDS.filter((k) => k !== "blend").join(", ")}`,
      BLEND_MEMBERS.join(","),
    )
    .option("--folds <folds>", "ML-100K folds: u1..u5, or a list such as u1,u2")
    .option("--split <split>", "a random split to repeat instead of folds (default ratio:0.9)")
    .option("--repeats <n>", "how many seeds of --split", intArg(1), 5)
    .option("-k, --k <n>", "cut-off of the ranking metrics", intArg(1), 10)
    .option(
      "--threshold <rating>",
      "a test rating at least this is relevant (default: 4 on 1..5 stars, the same place on other scales)",
      numberArg(0),
    )
    .option(
      "--holdout-users <n>",
      "strong generalisation: hold out n whole users, fold in 80% of each one's positives, find the rest",
      intArg(1),
    )
    .option("--seed <n>", "first seed", intArg(0), 1)
    .option("--threads <n>", "threads for the kernels", intArg(1, 64), 1)
    .addOption(kernelsOption())
    .option("--data-dir <dir>", "folder holding the data sets")
    .option("--no-download", "never download a missing data set")
    .option("--min-item-ratings <n>", "keep only the movies with at least n training ratings", intArg(1))
    .option("--csv <file>", "write every run (model, split, metrics) as CSV")
    .option("--plot <file>", "write the comparison as a chart (.svg, or .png)")
    .option("--json", "print the summary and every run as JSON on the last line")
    .addHelpText(
      "after",
      `
Each model trains with its defaults on each split's training ratings (autoencoders hold out 5% of them
for early stopping) and is measured on the test ratings: RMSE and MAE (clipped predictions), and, over
all movies a user did not rate in training, Precision, Recall, NDCG, MAP, hit rate and MRR at k (test
ratings >= --threshold are relevant; users with none are skipped), Recall@20, Recall@50, NDCG@100, and
catalogue coverage. Top-N models (ease) predict no ratings: their RMSE and MAE are "-".
--holdout-users n measures strong generalisation instead (Liang et al. 2018, the case of a new person):
each split's ratings less n whole users train the models; 80% of each held-out user's positives (ratings
>= --threshold) are folded in and the rest are to be found; recall divides by min(K, positives to find).
Models:
${MODEL_REGISTRY.map((k) => `  ${k.name.padEnd(10)} ${k.summary}`).join("\n")}
blend: a linear blend of the --blend models. Each is trained without the 5% validation ratings, the
blend's weights (and an intercept) are fit by least squares to their predictions for those ratings, and
each member is then kept as trained on every training rating. Members that are also in --models are
fitted once and measured in their own rows too.

Examples:
  aerec evaluate --dataset ml-100k --models sae,autorec-i,mf,bias,mean --folds u1..u5 --plot compare.svg
  aerec evaluate --dataset ml-1m --split ratio:0.9 --repeats 5 --csv runs.csv
  aerec evaluate --models autorec-i,blend --blend autorec-i,deep-ae,mf --folds u1
  aerec evaluate --models ease,autorec-i,mean --folds u1..u5 --json
  aerec evaluate --models ease,autorec-i --dataset ml-20m --holdout-users 10000 --repeats 1`,
    )
    .action((opts: EvaluateFlags) => runEvaluate(opts));
}
