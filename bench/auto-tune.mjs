#!/usr/bin/env node
// What `aerec train --tune auto` buys: on each data set and split, trains the model with its defaults and
// with --tune auto (within --budget), and prints the validation RMSE both chose on, the test RMSE of both,
// what auto chose, and how much each setting mattered: the largest spread of validation RMSE among trials
// that differ in that setting alone. The choice reads validation ratings only; the test column is for this report.
//
// Usage: MOVIELENS_DIR=../shared/data node bench/auto-tune.mjs [--model autorec-i] [--budget 2m]
//          [--runs "ml-100k:u1;synthetic:users=2000,items=800,ratings=60000:ratio:0.9"]
//        (runs: DATASET:SPLIT pairs separated by ";"; the default is u1..u5 and two synthetic shapes)
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { machineLine, run } from "./common.mjs";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "autorec-i" },
    budget: { type: "string", default: "2m" },
    threads: { type: "string", default: "2" },
    runs: {
      type: "string",
      default:
        "ml-100k:u1;ml-100k:u2;ml-100k:u3;ml-100k:u4;ml-100k:u5;" +
        "synthetic:users=3000,items=1200,ratings=150000:ratio:0.9;" +
        "synthetic:users=600,items=3000,ratings=60000,skew=0.6:ratio:0.9",
    },
  },
});
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
// DATASET:SPLIT, where the split is u1..u5 or ratio:F (the dataset itself may hold ":").
const runs = values.runs.split(";").map((pair) => {
  const m = /^(.*):(u\d|ua|ub|ratio:[\d.]+)$/.exec(pair);
  if (!m) throw new Error(`--runs: "${pair}" is not DATASET:SPLIT`);
  return { dataset: m[1], split: m[2] };
});

function train(dataset, split, extra) {
  const args = [cli, "train", "--model", values.model, "--dataset", dataset, "--split", split];
  args.push("--threads", values.threads, "--json", ...extra);
  return run(`aerec ${args.slice(1).join(" ")}`, process.execPath, args);
}

/**
 * Per setting: the largest spread of validation RMSE among trials that share the other two settings (what
 * moving that setting alone changed), and over how many trials.
 */
function mattered(trials) {
  const keyOf = {
    lambda: (t) => t.lambda,
    "input offset": (t) => t.inputOffset,
    hidden: (t) => t.hidden.join(),
  };
  return Object.entries(keyOf).map(([name]) => {
    const others = Object.entries(keyOf).filter(([n]) => n !== name);
    const groups = new Map();
    for (const t of trials) {
      const key = others.map(([, k]) => k(t)).join("|");
      groups.set(key, [...(groups.get(key) ?? []), t]);
    }
    let spread = 0;
    let n = 1;
    for (const line of groups.values()) {
      const rmses = line.map((t) => t.validationRmse);
      if (Math.max(...rmses) - Math.min(...rmses) > spread) {
        spread = Math.max(...rmses) - Math.min(...rmses);
        n = line.length;
      }
    }
    return `${name} ${spread.toFixed(4)} (${n} trials)`;
  });
}

console.log(machineLine(Number(values.threads)));
console.log(`${values.model}: defaults against --tune auto --budget ${values.budget}`);
for (const { dataset, split } of runs) {
  const plain = train(dataset, split, []);
  const auto = train(dataset, split, ["--tune", "auto", "--budget", values.budget]);
  const { trials } = auto.autoTune;
  const c = trials[0];
  console.log(
    `${dataset} ${split}: defaults validation ${plain.validation.rmse.toFixed(4)} test ${plain.test.rmse.toFixed(4)} ` +
      `(${plain.seconds.toFixed(0)} s); auto validation ${auto.validation.rmse.toFixed(4)} test ` +
      `${auto.test.rmse.toFixed(4)} (${auto.seconds.toFixed(0)} s, ${trials.length} trials): lambda ${c.lambda}, ` +
      `input offset ${c.inputOffset}, hidden ${c.hidden.join(",")}, epoch ${c.bestEpoch}; mattered: ${mattered(trials).join(", ")}`,
  );
}
