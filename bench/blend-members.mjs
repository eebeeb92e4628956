#!/usr/bin/env node
// Which models the blend should combine, chosen on validation ratings only: on each fold, fits a blend of
// every candidate (each member held out of the same 5% of the training ratings), then scores every subset of
// the candidates by its cross-validated blend RMSE on those ratings (crossValidatedBlendRmse: the weights
// of each of its folds fit on the others). Prints each candidate alone and the best subsets, averaged over
// the folds. The test ratings are never read.
//
// Usage: MOVIELENS_DIR=../shared/data node bench/blend-members.mjs [--folds u1,u2,u3]
//          [--candidates autorec-i,autorec-u,deep-ae,glocal-k,sae,mf,bias] [--threads 2] [--top 10]
import { parseArgs } from "node:util";
import { createBackend, crossValidatedBlendRmse, fitModel, loadData } from "../dist/index.js";
import { machineLine } from "./common.mjs";

const { values } = parseArgs({
  options: {
    folds: { type: "string", default: "u1,u2,u3" },
    candidates: { type: "string", default: "autorec-i,autorec-u,deep-ae,glocal-k,sae,mf,bias" },
    threads: { type: "string", default: "2" },
    top: { type: "string", default: "10" },
  },
});
const folds = values.folds.split(",");
const candidates = values.candidates.split(",");
if (candidates.length > 12) throw new Error("--candidates: at most 12 (every subset is scored)");
console.log(machineLine(Number(values.threads)));

const subsets = [];
for (let mask = 1; mask < 1 << candidates.length; mask++) subsets.push({ mask, rmse: 0 });
const alone = new Map(candidates.map((c) => [c, 0]));
for (const fold of folds) {
  const data = await loadData("ml-100k", { split: fold, dataDir: process.env.MOVIELENS_DIR });
  const backend = createBackend("auto", Number(values.threads));
  const out = fitModel("blend", data, { backend, settings: { members: candidates, seed: 1 } });
  const targets = out.validation.values;
  out.members.forEach((m) => {
    alone.set(m.name, alone.get(m.name) + m.validationRmse / folds.length);
    console.log(
      `${fold} ${m.name}: validation RMSE ${m.validationRmse.toFixed(4)} (${m.seconds.toFixed(0)} s)`,
    );
  });
  for (const s of subsets) {
    const chosen = out.members.filter((_, i) => s.mask & (1 << i)).map((m) => m.validationPredictions);
    s.rmse += crossValidatedBlendRmse(chosen, targets, data.scale) / folds.length;
  }
  backend.close();
}
const names = (mask) => candidates.filter((_, i) => mask & (1 << i)).join(", ");
console.log(`\nmean validation RMSE over ${folds.join(", ")}`);
for (const [name, rmse] of [...alone].sort((a, b) => a[1] - b[1]))
  console.log(`  ${rmse.toFixed(4)}  ${name} alone`);
console.log("best blends (cross-validated on the validation ratings):");
for (const s of subsets.sort((a, b) => a.rmse - b.rmse).slice(0, Number(values.top)))
  console.log(`  ${s.rmse.toFixed(4)}  ${names(s.mask)}`);
