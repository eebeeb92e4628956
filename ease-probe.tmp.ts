import { loadData } from "./src/data/load.js";
import { createBackend } from "./src/kernels/index.js";
import { evaluateRanking } from "./src/model/ranking-metrics.js";
import { fitModel } from "./src/train/registry.js";
import { easeKind } from "./src/model/ease.js";
const data = await loadData("ml-100k", { split: "u1" });
const backend = createBackend("auto", 2);
const out = fitModel("ease", data, { backend });
console.log(out.trials);
for (const [l, p] of [[500, 4], [300, 4], [100, 4], [500, 0], [1000, 4]]) {
  const m = easeKind.fit(data, easeKind.override({ lambda: l, positiveFrom: p }), { backend }).model;
  const r = evaluateRanking((u) => m.scoreUsers([u]), data.train, data.test, { k: 10, threshold: 4 });
  console.log(l, p, r.ndcg.toFixed(4), r.precision.toFixed(4), r.users);
}
