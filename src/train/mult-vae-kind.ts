import { z } from "zod";
import { scaledRating } from "../data/datasets.js";
import { Rng } from "../data/random.js";
import type { Ratings } from "../data/ratings.js";
import { validationSplit } from "../data/splits.js";
import type { Backend } from "../kernels/index.js";
import type { EpochReport, FitOutcome, ModelKind, TrainingSet } from "../model/model.js";
import { batchedScores, unsupported } from "../model/model.js";
import { MultModel, multConfigSchema } from "../model/mult-vae.js";
import { evaluateRanking } from "../model/ranking-metrics.js";
import { Optimizer, optimizerDefaults } from "./optimizers.js";

const settingsSchema = z
  .object({
    model: multConfigSchema,
    epochs: z.number().int().min(1).max(100_000),
    batchSize: z.number().int().min(1).max(1_000_000),
    lr: z.number().finite().positive().max(1),
    /** Dropout on the normalised input while training. */
    dropout: z.number().min(0).max(0.95),
    /**
     * The VAE's KL weight beta rises linearly by 1 / annealEpochs per epoch up to this cap; "auto" chooses
     * the cap as the paper does: one run anneals up to 1, and the beta of its best validation epoch is the
     * cap of the run that is kept. Ignored by the DAE.
     */
    betaCap: z.union([z.number().min(0).max(1), z.literal("auto")]),
    annealEpochs: z.number().int().min(1),
    /** Fraction of the training ratings held out to early-stop on (by NDCG@10). */
    validation: z.number().gt(0).max(0.5),
    /** A held-out rating at least this is relevant to the validation ranking. */
    relevantFrom: z.number().finite(),
    /** Stop after this many epochs without a better validation NDCG@10, keeping the best. */
    patience: z.number().int().min(1),
    seed: z.number().int().min(0),
  })
  .strict();
/** How to train a Mult-DAE or Mult-VAE. */
export type MultSettings = z.infer<typeof settingsSchema>;

/**
 * The paper's settings (Liang et al. 2018): tanh layers, dropout 0.5 on the input, Adam lr 1e-3, batches of
 * 500 users, positives from 4 stars, at most 200 epochs; the VAE's beta annealed to a cap chosen on
 * validation. Early stopping on 20% of the training ratings (the share of a test fold).
 */
const COMMON = {
  epochs: 200,
  batchSize: 500,
  lr: 1e-3,
  dropout: 0.5,
  validation: 0.2,
  relevantFrom: 4,
  patience: 20,
  seed: 1,
} as const;

/** Mult-VAE: I-600-200-600-I, the 200 being mu and log-variance. */
export const MULT_VAE_DEFAULTS: MultSettings = {
  ...COMMON,
  model: { variational: true, hidden: [600], code: 200, positiveFrom: 4 },
  betaCap: "auto",
  annealEpochs: 100,
};

/** Mult-DAE: I-200-I. */
export const MULT_DAE_DEFAULTS: MultSettings = {
  ...COMMON,
  model: { variational: false, hidden: [], code: 200, positiveFrom: 4 },
  betaCap: 0,
  annealEpochs: 100,
};

/** NDCG@10 of `model` on `validation` (held-out ratings of its training users). */
function validationNdcg(model: MultModel, fit: Ratings, validation: Ratings, relevantFrom: number): number {
  return evaluateRanking(batchedScores(model, 500), fit, validation, { k: 10, threshold: relevantFrom }).ndcg;
}

/** One training run with KL cap `cap`; keeps the best validation epoch's parameters. */
function trainRun(
  kind: string,
  data: TrainingSet,
  fit: Ratings,
  validation: Ratings,
  settings: MultSettings,
  cap: number,
  backend: Backend,
  onEpoch?: (report: EpochReport) => void,
  /** Names this run in the epoch reports when it is not the first. */
  phase?: string,
) {
  const model = new MultModel(kind, settings.model, fit, data.scale, backend);
  const rng = new Rng(settings.seed);
  model.network.initialize(rng);
  const { network, positives } = model;
  const optimizer = new Optimizer(
    optimizerDefaults("adam", settings.lr),
    network.params,
    network.grads,
    backend,
  );
  const rows: number[] = [];
  for (let u = 0; u < positives.nRows; u++) if (positives.indptr[u + 1] > positives.indptr[u]) rows.push(u);
  const history: EpochReport[] = [];
  const best = { epoch: 0, ndcg: -1, beta: 0, params: network.params.slice() };
  const started = performance.now();
  backend.kernels.fill(network.grads, network.grads.length, 0);
  for (let epoch = 1; epoch <= settings.epochs; epoch++) {
    const epochStart = performance.now();
    const beta = settings.model.variational ? Math.min(cap, epoch / settings.annealEpochs) : 0;
    rng.shuffle(rows);
    let loss = 0;
    for (let at = 0; at < rows.length; at += settings.batchSize) {
      const batch = rows.slice(at, at + settings.batchSize);
      loss += network.accumulateGradients(positives, batch, 1 / batch.length, {
        dropout: settings.dropout,
        rng,
        beta,
      });
      optimizer.step(true);
    }
    model.weightsChanged();
    if (!Number.isFinite(loss))
      throw new Error(`${kind} diverged at epoch ${epoch} (loss ${loss}): lower --lr`);
    // The epoch's seconds are the training pass; ranking the validation ratings comes after.
    const seconds = (performance.now() - epochStart) / 1000;
    const ndcg = validationNdcg(model, fit, validation, settings.relevantFrom);
    const report: EpochReport = {
      epoch,
      trainLoss: loss / Math.ceil(rows.length / settings.batchSize),
      validationNdcg: ndcg,
      seconds,
    };
    history.push(report);
    onEpoch?.({ ...report, epochs: settings.epochs, ...(phase ? { phase } : {}) });
    if (ndcg > best.ndcg) Object.assign(best, { epoch, ndcg, beta, params: network.params.slice() });
    if (epoch - best.epoch >= settings.patience) break;
  }
  network.params.set(best.params);
  model.weightsChanged();
  const stopped =
    history.length < settings.epochs
      ? `no better validation NDCG@10 for ${settings.patience} epochs`
      : undefined;
  return { model, history, best, stopped, seconds: (performance.now() - started) / 1000 };
}

/**
 * Trains on the training ratings less a validation part, early-stopping on its NDCG@10; then the model reads
 * every training rating as its users' inputs. The VAE's "auto" KL cap takes two runs (see betaCap).
 */
function fitMult(
  kind: string,
  data: TrainingSet,
  settings: MultSettings,
  backend: Backend,
  onEpoch?: (report: EpochReport) => void,
): FitOutcome<MultModel> {
  const started = performance.now();
  const { fit, validation } = validationSplit(data.train, settings.validation, settings.seed);
  const trials: NonNullable<FitOutcome["trials"]> = [];
  const auto = settings.model.variational && settings.betaCap === "auto";
  let run = trainRun(
    kind,
    data,
    fit,
    validation,
    settings,
    auto ? 1 : (settings.betaCap as number),
    backend,
    onEpoch,
  );
  if (auto) {
    trials.push({ settings: { betaCap: 1 }, metric: "validation NDCG@10", score: run.best.ndcg });
    // A best epoch before beta reached 1 names a lower cap: train again with it.
    if (run.best.beta < 1) {
      const cap = run.best.beta;
      run = trainRun(kind, data, fit, validation, settings, cap, backend, onEpoch, `betaCap ${cap}`);
      trials.push({ settings: { betaCap: cap }, metric: "validation NDCG@10", score: run.best.ndcg });
      trials.sort((a, b) => b.score - a.score);
    }
  }
  run.model.useRatings(data.train);
  return {
    model: run.model,
    history: run.history,
    bestEpoch: run.best.epoch,
    seconds: (performance.now() - started) / 1000,
    stopped: run.stopped,
    fit,
    validation,
    trials: trials.length > 0 ? trials : undefined,
  };
}

/** The registry entry of `name` with `defaults`. */
function multKind(name: string, summary: string, defaults: MultSettings): ModelKind<MultSettings, MultModel> {
  return {
    name,
    summary,
    family: "top-n",
    settingsSchema,
    defaults,
    configSchema: multConfigSchema,
    override(o, base = defaults) {
      unsupported(name, o, [
        "epochs",
        "hidden",
        "lr",
        "batchSize",
        "inputDropout",
        "validation",
        "patience",
        "positiveFrom",
      ]);
      const hidden = o.hidden ? o.hidden.slice(0, -1) : base.model.hidden;
      const code = o.hidden ? o.hidden[o.hidden.length - 1] : base.model.code;
      return {
        ...base,
        model: { ...base.model, hidden, code, positiveFrom: o.positiveFrom ?? base.model.positiveFrom },
        epochs: o.epochs ?? base.epochs,
        lr: o.lr ?? base.lr,
        batchSize: o.batchSize ?? base.batchSize,
        dropout: o.inputDropout ?? base.dropout,
        validation: o.validation ?? base.validation,
        patience: o.patience ?? base.patience,
        seed: o.seed ?? base.seed,
      };
    },
    forScale: (s, scale) => ({
      ...s,
      relevantFrom: scaledRating(s.relevantFrom, scale),
      model: { ...s.model, positiveFrom: scaledRating(s.model.positiveFrom, scale) },
    }),
    fit: (data, settings, context) => fitMult(name, data, settings, context.backend, context.onEpoch),
    load: (saved, { train, scale, backend }) => MultModel.load(name, saved, train, scale, backend),
  };
}

/** Mult-VAE (Liang et al. 2018). */
export const multVaeKind = multKind(
  "mult-vae",
  "Mult-VAE (Liang et al. 2018): I-600-200-600-I tanh, multinomial likelihood, KL annealed, for top-N",
  MULT_VAE_DEFAULTS,
);

/** Mult-DAE (Liang et al. 2018). */
export const multDaeKind = multKind(
  "mult-dae",
  "Mult-DAE (Liang et al. 2018): I-200-I tanh with input dropout, multinomial likelihood, for top-N",
  MULT_DAE_DEFAULTS,
);
