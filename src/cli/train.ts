import { writeFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { relevantFrom } from "../data/datasets.js";
import type { LoadedData } from "../data/load.js";
import type { RawId } from "../data/ratings.js";
import { trainingCurve } from "../eval/charts.js";
import { ratingMetrics, tutorialLoss } from "../eval/metrics.js";
import { chartBytes, ensureChartFormat } from "../eval/png.js";
import { evaluateRanking } from "../eval/ranking.js";
import {
  type Backend,
  createBackend,
  type KernelChoice,
  type ProfileEntry,
  profiledBackend,
} from "../kernels/index.js";
import { AutoencoderModel } from "../model/autoencoder-model.js";
import { batchedScores, type FitOutcome, type Model, predict } from "../model/model.js";
import { Recommender } from "../model/recommender.js";
import { loadModel, saveModel } from "../store/model-file.js";
import type { Checkpoint } from "../train/fit.js";
import type { ModelSettings } from "../train/presets.js";
import { defaultSettings, fitModel, MODEL_REGISTRY, modelKind } from "../train/registry.js";
import { type AutoTuned, autoTune, durationArg } from "./auto-tune.js";
import { addDataOptions, loadOrDownload, type SourceFlags } from "./data-flags.js";
import { rawIdArg } from "./options.js";
import { ProgressBar } from "./progress.js";
import { addSettingOptions, describeSettings, type SettingFlags, settingsFrom } from "./settings.js";

interface TrainFlags extends SettingFlags, SourceFlags {
  threads: number;
  kernels: KernelChoice;
  save?: string;
  json?: boolean;
  show?: RawId;
  plot?: string;
  resume?: string;
  rater?: string;
  profile?: boolean;
  skipTest?: boolean;
  tune?: "auto";
  /** Seconds --tune auto may spend. */
  budget: number;
}

/** The settings, data and state saved in a file by `aerec train --save`, to continue training from. */
async function resumeFrom(flags: TrainFlags): Promise<{ settings: unknown; checkpoint: Checkpoint }> {
  const file = flags.resume!;
  const { header, settings, checkpoint } = await loadModel(file, createBackend("reference"));
  if (!checkpoint) {
    throw new Error(
      `${file} holds no training state to resume: train an autoencoder with adam, rmsprop or sgd and without --refit, then --save`,
    );
  }
  const saved = settings as ModelSettings;
  flags.model = header.kind;
  flags.dataset = header.dataset;
  flags.split = header.split;
  flags.seed = saved.train.seed;
  return {
    settings: { ...saved, train: { ...saved.train, epochs: flags.epochs ?? saved.train.epochs } },
    checkpoint,
  };
}

async function runTrain(flags: TrainFlags): Promise<void> {
  const say = (s: string) => (flags.json ? process.stderr : process.stdout).write(s);
  const resumed = flags.resume ? await resumeFrom(flags) : undefined;
  ensureChartFormat(flags.plot);
  if (resumed) say(`resuming ${flags.resume} after epoch ${resumed.checkpoint.state.epoch}\n`);
  const started = performance.now();
  const data = await loadOrDownload(flags, say);
  if (flags.tune && resumed) throw new Error("--tune auto starts a new model: it does not go with --resume");
  const initial = resumed?.settings ?? settingsFrom(flags, data.scale);
  const validationShare = (initial as { validation?: number }).validation ?? 0;
  const nHeldOut = Math.round(validationShare * data.train.size);
  say(
    `${data.dataset} split ${data.split}: ${data.train.size} training ratings` +
      `${nHeldOut ? ` (${nHeldOut} held out for validation)` : ""}, ${data.test.size} test ratings, ` +
      `${data.userIds.size} users, ${data.itemIds.size} movies\n`,
  );
  const tuned =
    flags.tune === "auto"
      ? autoTune(flags, data, flags.budget, () => createBackend(flags.kernels, flags.threads), say)
      : undefined;
  const settings = tuned?.settings ?? initial;
  const created = tuned?.backend ?? createBackend(flags.kernels, flags.threads);
  const backend = flags.profile && !tuned ? profiledBackend(created) : created;
  try {
    say(
      `${describeSettings(flags.model, settings, data)}; kernels ${backend.kernels.name} x${backend.threads} ` +
        `thread${backend.threads > 1 ? "s" : ""}\n`,
    );
    let bar = new ProgressBar("epoch", process.stderr, 10);
    let phase: string | undefined;
    // Read at each epoch's end, so that it covers the fit up to its last epoch (every trial, validation
    // included) and not the work after it (testing, caches).
    let profile: ProfileEntry[] | undefined;
    let profiledSeconds = 0;
    const fitStarted = performance.now();
    const epochs =
      (settings as Partial<ModelSettings>).train?.epochs ?? (settings as { epochs?: number }).epochs ?? 0;
    const outcome =
      tuned?.outcome ??
      fitModel(flags.model, data, {
        backend,
        settings,
        resume: resumed?.checkpoint,
        onEpoch: (e) => {
          profile = backend.profile?.entriesByTime();
          profiledSeconds = (performance.now() - fitStarted) / 1000;
          if (e.phase && e.phase !== phase) {
            // A new run of the same fit: say what it is, and give it a bar of its own.
            phase = e.phase;
            say(describePhase(e.phase, e.epochs, data.train.size));
            bar = new ProgressBar(e.phase.endsWith("refit") ? "refit epoch" : "epoch", process.stderr, 10);
          }
          bar.update({
            done: e.epoch,
            total: e.epochs ?? epochs,
            fields: {
              loss: e.trainLoss.toFixed(4),
              ...(e.validationRmse !== undefined ? { "val RMSE": e.validationRmse.toFixed(4) } : {}),
              ...(e.validationNdcg !== undefined ? { "val NDCG@10": e.validationNdcg.toFixed(4) } : {}),
            },
          });
        },
      });
    const { model, history, bestEpoch, validation } = outcome;
    if (backend.profile && !profile) {
      // A closed-form fit has no epochs to read the profile at.
      profile = backend.profile.entriesByTime();
      profiledSeconds = (performance.now() - fitStarted) / 1000;
    }
    const best = history[bestEpoch - 1];
    say(
      `trained ${history.length ? `${history.length} epochs ` : ""}in ${outcome.seconds.toFixed(1)}s` +
        `${validation && best ? `, kept epoch ${bestEpoch} (best ${best.validationNdcg !== undefined ? `validation NDCG@10 ${best.validationNdcg.toFixed(4)}` : `validation RMSE ${best.validationRmse?.toFixed(4)}`})` : ""}` +
        `${outcome.stopped ? `; ${outcome.stopped}` : ""}\n`,
    );
    if (outcome.trials?.length) say(describeTrials(outcome.trials));
    if (profile) say(describeProfile(profile, profiledSeconds));
    // A top-N model predicts no ratings: it has no RMSE of its own (a rating model beside it, --rater, has).
    const test =
      model.ranksOnly || flags.skipTest
        ? null
        : {
            ...ratingMetrics(predict(model, data.test), data.test.values),
            tutorialLoss: userBasedTutorialLoss(model, data),
          };
    const ranking = !flags.skipTest ? testRanking(model, data) : null;
    if (!ranking) say("test metrics skipped (--skip-test)\n");
    else {
      say(
        (test
          ? `test RMSE ${test.rmse.toFixed(4)}  MAE ${test.mae.toFixed(4)}` +
            `${test.tutorialLoss !== null ? `  tutorial loss ${test.tutorialLoss.toFixed(4)}` : ""}\n`
          : `${flags.model} ranks and predicts no stars (no RMSE; --rater adds a rating model for them)\n`) +
          `test ranking (every unrated movie a candidate; relevant: test ratings >= ${relevantFrom(data.scale)}): ` +
          `NDCG@10 ${ranking.ndcg.toFixed(4)}  Precision@10 ${ranking.precision.toFixed(4)}  Recall@10 ${ranking.recall.toFixed(4)}\n`,
      );
    }
    const rater = flags.rater ? fitRater(flags.rater, data, backend, flags.seed, say) : undefined;
    if (flags.show !== undefined) showTop(model, rater?.model, data, flags.show, say);
    if (flags.plot) {
      const title = `${flags.model} on ${data.dataset} ${data.split}${validation ? `, best epoch ${bestEpoch}` : ""}`;
      const svg = trainingCurve(history, title, validation ? bestEpoch : undefined);
      if (!svg) throw new Error(`--plot: ${flags.model} is fitted in closed form, with no curve to draw`);
      await writeFile(flags.plot, chartBytes(flags.plot, svg));
      say(`wrote the training curve to ${flags.plot}\n`);
    }
    if (flags.save) {
      await saveModel(flags.save, model, {
        settings,
        checkpoint: outcome.checkpoint as Checkpoint | undefined,
        dataset: data.dataset,
        split: data.split,
        userIds: data.userIds,
        itemIds: data.itemIds,
        movies: data.movies,
        history,
        kernels: backend.kernels.name,
        threads: backend.threads,
        metrics: {
          test,
          ranking,
          validationRmse: best?.validationRmse ?? null,
          rater: rater?.test ?? null,
          ...(tuned ? { autoTune: autoTuneSummary(tuned, flags.budget) } : {}),
        },
        rater: rater && { model: rater.model, settings: rater.settings },
      });
      say(`saved the model to ${flags.save}\n`);
    }
    if (flags.json) {
      const summary = {
        dataset: data.dataset,
        split: data.split,
        model: flags.model,
        preset: flags.preset ?? null,
        nTrain: data.train.size,
        nFit: outcome.fit.size,
        nValidation: validation?.size ?? 0,
        nTest: data.test.size,
        epochs: history.length,
        bestEpoch,
        seconds: (performance.now() - started) / 1000,
        trainSeconds: outcome.seconds,
        // The early-stopped run's epochs; a refit's are counted apart.
        secondsPerEpoch: history.length
          ? (outcome.seconds - (outcome.refitSeconds ?? 0)) / history.length
          : null,
        refitSeconds: outcome.refitSeconds ?? null,
        epochSeconds: history.map((h) => h.seconds),
        ...((settings as Partial<ModelSettings>).train?.optimizer.kind === "lbfgs"
          ? { evaluations: history.reduce((n, h) => n + (h.evaluations ?? 0), 0) }
          : {}),
        trainLoss: best?.trainLoss ?? null,
        validation: validation && best ? { rmse: best.validationRmse } : null,
        test,
        ranking,
        ...(rater ? { rater: { model: flags.rater, test: rater.test, seconds: rater.seconds } } : {}),
        ...(outcome.trials ? { trials: outcome.trials } : {}),
        ...(tuned ? { autoTune: autoTuneSummary(tuned, flags.budget) } : {}),
        settings,
        kernels: backend.kernels.name,
        threads: backend.threads,
        ...(profile ? { profile, profiledSeconds } : {}),
        peakMemoryMiB: process.resourceUsage().maxRSS / 1024,
      };
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    }
  } finally {
    backend.close();
  }
}

/**
 * NDCG@10, Precision@10 and Recall@10 of `model`'s lists against the test ratings (the per-user detail
 * dropped), with a bar once it has taken over two seconds (scoring every movie for every user).
 */
function testRanking(model: Model, data: LoadedData) {
  let bar: ProgressBar | undefined;
  const { users: _users, ...ranking } = evaluateRanking(batchedScores(model), data.train, data.test, {
    k: 10,
    threshold: relevantFrom(data.scale),
    onProgress: (done, total) => {
      // In a log (no terminal), a line every tenth of the users.
      bar ??= new ProgressBar("ranking test users", process.stderr, Math.ceil(total / 10), 2);
      bar.update({ done, total });
    },
  });
  return ranking;
}

/** The line that announces a fit's next run. */
function describePhase(phase: string, epochs: number | undefined, nTrain: number): string {
  const run = /^run (\d+)\/(\d+)( refit)?$/.exec(phase);
  const refit = `refitting on all ${nTrain} training ratings for ${epochs} epochs (the count validation chose)`;
  if (phase === "refit") return `${refit}\n`;
  if (run?.[3]) return `run ${run[1]} of ${run[2]}: ${refit}\n`;
  if (run)
    return `run ${run[1]} of ${run[2]}: another fit from the next seed, to be averaged with the others\n`;
  return `training again with ${phase}\n`;
}

/** Each kernel's share of the fit's time, the largest first; the rest is untimed JavaScript. */
function describeProfile(profile: ProfileEntry[], seconds: number): string {
  const timed = profile.reduce((sum, e) => sum + e.seconds, 0);
  const line = (name: string, s: number, calls: string) =>
    `  ${name.padEnd(22)} ${s.toFixed(3).padStart(9)} s ${((100 * s) / seconds).toFixed(1).padStart(5)}%  ${calls}\n`;
  return (
    `where the fit's ${seconds.toFixed(2)} s went (kernels on worker threads count as the wait for them):\n` +
    profile.map((e) => line(e.name, e.seconds, `${e.calls} calls`)).join("") +
    line("other (JavaScript)", Math.max(0, seconds - timed), "")
  );
}

/** The settings a fit chose among, best first (the five best and the chosen one named). */
function describeTrials(trials: NonNullable<FitOutcome["trials"]>): string {
  const line = (t: (typeof trials)[number]) =>
    `${Object.entries(t.settings)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}: ${t.metric} ${t.score.toFixed(4)}`;
  return (
    `chose ${line(trials[0])} (of ${trials.length} candidates)\n` +
    trials
      .slice(1, 5)
      .map((t) => `  then ${line(t)}\n`)
      .join("")
  );
}

/** What --tune auto chose and tried, for the model file and the JSON summary. */
function autoTuneSummary(tuned: AutoTuned, budgetSeconds: number) {
  return { budgetSeconds, defaultValidationRmse: tuned.defaultRmse, trials: tuned.trials };
}

/** The tutorial's per-user test loss, for user-based autoencoders (null for other models). */
function userBasedTutorialLoss(model: Model, data: LoadedData): number | null {
  if (!(model instanceof AutoencoderModel) || model.config.orientation !== "user") return null;
  const { csr, raw } = model.rawOutputsFor(data.test);
  return tutorialLoss(raw, csr);
}

/** Fits the rating model `kind` (with its defaults) that predicts the stars beside a top-N model's lists. */
function fitRater(kind: string, data: LoadedData, backend: Backend, seed: number, say: (s: string) => void) {
  const raterKind = modelKind(kind);
  if (raterKind.family !== "rating")
    throw new Error(
      `--rater ${kind}: choose a rating model (${MODEL_REGISTRY.filter((k) => k.family === "rating")
        .map((k) => k.name)
        .join(", ")})`,
    );
  say(`fitting the rating model ${kind} for the predicted stars\n`);
  const settings = defaultSettings(kind, data.scale, seed);
  const outcome = fitModel(kind, data, { backend, settings });
  const test = ratingMetrics(predict(outcome.model, data.test), data.test.values);
  say(
    `rating model ${kind}: test RMSE ${test.rmse.toFixed(4)}  MAE ${test.mae.toFixed(4)} (${outcome.seconds.toFixed(1)}s)\n`,
  );
  return { model: outcome.model, settings, test, seconds: outcome.seconds };
}

function showTop(
  model: Model,
  rater: Model | undefined,
  data: LoadedData,
  userId: RawId,
  say: (s: string) => void,
): void {
  const recommender = new Recommender(model, data.userIds, data.itemIds, data.movies, { rater });
  const { known, items } = recommender.forUser(userId, 10);
  if (!known) {
    say(`user ${userId} is not in ${data.dataset}; no recommendations shown\n`);
    return;
  }
  say(
    `top 10 for user ${userId} (movies he has not rated, ranked by ${model.kind}` +
      `${recommender.rater ? `; predicted rating by ${recommender.rater.kind}` : ""}):\n`,
  );
  for (const [rank, m] of items.entries()) {
    const stars = m.predicted !== null ? `${m.predicted.toFixed(2)}  ` : "";
    say(`${String(rank + 1).padStart(3)}. ${stars}${m.title}\n`);
  }
}

/** `aerec train`. */
export function registerTrain(program: Command): void {
  const command = program
    .command("train")
    .description("train a model, report its test metrics, and optionally save it");
  addSettingOptions(addDataOptions(command))
    .option("--show <userId>", "print this user's top 10 unrated movies at the end", rawIdArg)
    .option(
      "--rater <model>",
      "with a top-N model: also fit this rating model (e.g. autorec-i) for the predicted stars, saved in the same file",
    )
    .option(
      "--save <file>",
      "write the trained model (safetensors with an aerec header) and its training state",
    )
    .option(
      "--resume <file>",
      "continue training a saved model (its data, settings and optimizer state) up to --epochs",
    )
    .option(
      "--plot <file>",
      "write the training loss and validation RMSE per epoch as a chart (.svg, or .png)",
    )
    .option("--json", "print one JSON summary as the last line of stdout (human text goes to stderr)")
    .addOption(
      new Option(
        "--tune <mode>",
        "auto: choose lambda, input offset and hidden size on the validation ratings first (rating autoencoders)",
      ).choices(["auto"]),
    )
    .option("--budget <duration>", "how long --tune auto may spend, e.g. 90s, 10m, 1h", durationArg, 600)
    .option(
      "--skip-test",
      "skip the test metrics (a run that only trains and saves; scoring every user can take long on big data)",
    )
    .option(
      "--profile",
      "time every kernel call and print where the training time went (adds a clock read per call)",
    )
    .addHelpText(
      "after",
      `
Models (every default was chosen on validation, never on test):
${MODEL_REGISTRY.map((k) => `  ${k.name.padEnd(10)} ${k.summary}`).join("\n")}
The rating autoencoders hold out 5% of the training ratings for early stopping (--validation,
--patience); the top-N models hold out 20% and choose their settings (EASE) or epoch (Mult-*) by NDCG@10 on
them. No model sees the test ratings before the final report. Flags a model does not take are refused by
name. A top-N model ranks and predicts no stars: --rater fits a rating model beside it for those.

--preset tutorial reproduces the PyTorch tutorial exactly: RMSprop lr 0.01 weight decay 0.5, one user per
step, 200 epochs, nn.MSELoss over all movie columns, and gradients that are never reset (the tutorial never
calls optimizer.zero_grad()). Flags given next to it still override it.

Metrics: global RMSE and MAE over every test rating (predictions clipped to the rating scale; a user or
movie with no training ratings gets the movie's, user's or global mean), for user-based models the
tutorial's own per-user test loss, and for every model the ranking of the test ratings (NDCG@10,
Precision@10, Recall@10; every unrated movie a candidate, test ratings >= 4 relevant, or the same place on
another scale).

Your own data: --ratings FILE (any delimited file; separator, header, columns and scale are detected and
printed, or set with --sep, --columns, --header, --scale), or --train FILE --test FILE for a fixed split;
--items FILE for titles; --implicit (or a file with no rating column) for interactions, which the top-N
models learn from.
--tune auto (rating autoencoders) first chooses lambda, the input offset and the hidden size on the
validation ratings, one at a time from the defaults, within --budget (default 10m); flags given stay fixed.

Examples:
  aerec train --dataset ml-100k --split u1 --model sae --preset tutorial
  aerec train --model autorec-i --dataset ml-100k --split u1 --json
  aerec train --model autorec-i --dataset synthetic:ml-1m --split ratio:0.9 --threads 2
  aerec train --dataset ml-100k --show 1 --save sae.safetensors
  aerec train --model mf --save mf.safetensors    (then: aerec serve --model-file mf.safetensors)
  aerec train --model ease --rater autorec-i --show 1 --save ease.safetensors
  aerec train --ratings ratings.csv --items items.csv --model ease --rater autorec-i --save mine.safetensors
  aerec train --ratings plays.tsv.gz --columns user_id,track_id --model mult-vae --split time:0.9
  aerec train --train my-split/train.csv --test my-split/test.csv --model autorec-i
  aerec train --ratings ratings.csv --model autorec-i --tune auto --budget 5m --save mine.safetensors`,
    )
    .action((opts: TrainFlags) => runTrain(opts));
}
