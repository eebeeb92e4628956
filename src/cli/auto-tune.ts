import { InvalidArgumentError } from "commander";
import type { LoadedData } from "../data/load.js";
import type { Backend } from "../kernels/index.js";
import type { FitOutcome } from "../model/model.js";
import { AUTOENCODER_KINDS, type AutoencoderKindName, type ModelSettings } from "../train/presets.js";
import { fitModel } from "../train/registry.js";
import { ProgressBar } from "./progress.js";
import { type SettingFlags, settingsFrom } from "./settings.js";

/** Commander parser for a duration: "90s", "10m", "1h" or seconds. */
export function durationArg(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(text.trim());
  if (!m || Number(m[1]) <= 0)
    throw new InvalidArgumentError('expected a duration such as "90s", "10m" or "1h"');
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "s" | "m" | "h"];
}

/**
 * One trial of a search (tune's and --tune auto's): the model of `flags` with `overrides` applied, fitted
 * on `backend`, and the validation RMSE of the epoch it kept.
 */
export function validationFit(
  flags: SettingFlags,
  overrides: Pick<SettingFlags, "lambda" | "hidden" | "lr" | "inputOffset">,
  data: LoadedData,
  backend: Backend,
): { settings: ModelSettings; outcome: FitOutcome; rmse: number } {
  const settings = settingsFrom({ ...flags, ...overrides }, data.scale) as ModelSettings;
  const outcome = fitModel(flags.model, data, { backend, settings });
  return { settings, outcome, rmse: outcome.history[outcome.bestEpoch - 1].validationRmse! };
}

/** One setting tried: what it changed from the defaults, and how it did on the validation ratings. */
export interface AutoTrial {
  lambda: number;
  inputOffset: number;
  hidden: number[];
  validationRmse: number;
  bestEpoch: number;
  seconds: number;
}

/** What the automatic mode chose, the fit it kept, and everything it tried (best first). */
export interface AutoTuned {
  settings: ModelSettings;
  outcome: FitOutcome;
  /** The kernels the kept fit's model lives in (the caller closes it). */
  backend: Backend;
  trials: AutoTrial[];
  /** The defaults' validation RMSE, the first trial's. */
  defaultRmse: number;
}

/**
 * `train --tune auto`: chooses the settings that matter most for a rating autoencoder (the L2 penalty, the
 * input offset, the hidden size; epochs by early stopping, as always) on the validation ratings, one at a
 * time from the defaults, within `budgetSeconds`: a trial that would end past the budget (judged by the
 * trials so far) is not started. Settings given as flags stay fixed. The best trial's fit is kept.
 */
export function autoTune(
  flags: SettingFlags,
  data: LoadedData,
  budgetSeconds: number,
  makeBackend: () => Backend,
  say: (s: string) => void,
): AutoTuned {
  if (!AUTOENCODER_KINDS.includes(flags.model as AutoencoderKindName) || flags.model === "sae") {
    throw new Error(
      `--tune auto chooses a rating autoencoder's settings (autorec-i, autorec-u, deep-ae); ${flags.model} ` +
        "has none to choose, or chooses its own on validation",
    );
  }
  const base = settingsFrom(flags, data.scale) as ModelSettings;
  if (!(base.validation > 0))
    throw new Error("--tune auto chooses on validation ratings: --validation must be above 0");
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const tried: AutoTrial[] = [];
  // The best trial's model lives in its backend's memory: that one stays open, the others close.
  let kept: { backend: Backend; outcome: FitOutcome; settings: ModelSettings; rmse: number } | undefined;
  const bar = new ProgressBar("auto trial", process.stderr);
  let best = { lambda: base.train.l2, inputOffset: base.model.inputOffset ?? 0, hidden: base.model.hidden };

  const trial = (point: typeof best): boolean => {
    if (
      tried.some(
        (t) =>
          t.lambda === point.lambda &&
          t.inputOffset === point.inputOffset &&
          t.hidden.join() === point.hidden.join(),
      )
    )
      return true;
    // Cost grows with the hidden size: judge the next trial by the mean so far, scaled.
    const perUnit = tried.reduce((s, t) => s + t.seconds / t.hidden[0], 0) / Math.max(1, tried.length);
    if (tried.length > 0 && elapsed() + perUnit * point.hidden[0] > budgetSeconds) return false;
    const backend = makeBackend();
    let fit: ReturnType<typeof validationFit>;
    try {
      fit = validationFit(flags, point, data, backend);
    } catch (e) {
      backend.close();
      throw e;
    }
    const { settings, outcome, rmse } = fit;
    tried.push({ ...point, validationRmse: rmse, bestEpoch: outcome.bestEpoch, seconds: outcome.seconds });
    if (!kept || rmse < kept.rmse) {
      kept?.backend.close();
      kept = { backend, outcome, settings, rmse };
    } else backend.close();
    const last = tried.at(-1)!;
    say(
      `  lambda ${last.lambda}, input offset ${last.inputOffset}, hidden ${last.hidden.join(",")}: validation RMSE ` +
        `${last.validationRmse.toFixed(4)} (epoch ${last.bestEpoch}, ${last.seconds.toFixed(1)}s)\n`,
    );
    bar.update({
      done: Math.min(Math.round(elapsed()), budgetSeconds),
      total: budgetSeconds,
      fields: { tried: String(tried.length) },
    });
    return true;
  };
  const bestSoFar = () => tried.reduce((a, b) => (b.validationRmse < a.validationRmse ? b : a));
  const stage = (points: (typeof best)[]) => {
    for (const point of points) if (!trial(point)) return false;
    const { lambda, inputOffset, hidden } = bestSoFar();
    best = { lambda, inputOffset, hidden };
    return true;
  };

  say(
    `--tune auto: choosing ${flags.model}'s settings on the validation ratings within ${budgetSeconds} s\n`,
  );
  trial(best);
  const [l, h] = [best.lambda, best.hidden];
  const unique = (xs: number[]) => [...new Set(xs)];
  // One setting at a time, each stage from the best so far: the penalty matters most, then the offset, then
  // the width (the widest last, as it costs the most).
  const stages: ((from: typeof best) => (typeof best)[])[] = [];
  if (flags.lambda === undefined && l > 0)
    stages.push((from) => unique([l / 2, l * 2, l / 4, l * 4]).map((lambda) => ({ ...from, lambda })));
  if (flags.inputOffset === undefined)
    stages.push((from) =>
      [0, 15, 30].filter((x) => x !== from.inputOffset).map((inputOffset) => ({ ...from, inputOffset })),
    );
  if (flags.hidden === undefined && h.length === 1)
    stages.push((from) =>
      [Math.max(8, Math.round(h[0] / 2)), h[0] * 2].map((n) => ({ ...from, hidden: [n] })),
    );
  for (const next of stages) if (!stage(next(best))) break;
  const chosen = bestSoFar();
  say(
    `chose lambda ${chosen.lambda}, input offset ${chosen.inputOffset}, hidden ${chosen.hidden.join(",")}: validation ` +
      `RMSE ${chosen.validationRmse.toFixed(4)}, ${(tried[0].validationRmse - chosen.validationRmse).toFixed(4)} better than ` +
      `the defaults (${tried.length} trials in ${elapsed().toFixed(0)} s)\n`,
  );
  return {
    settings: kept!.settings,
    outcome: kept!.outcome,
    backend: kept!.backend,
    trials: [...tried].sort((a, b) => a.validationRmse - b.validationRmse),
    defaultRmse: tried[0].validationRmse,
  };
}
