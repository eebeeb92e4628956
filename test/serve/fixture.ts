import { join } from "node:path";
import { loadData } from "../../src/data/load.js";
import type { Movie } from "../../src/data/movies.js";
import { createBackend } from "../../src/kernels/index.js";
import { easeKind } from "../../src/model/ease.js";
import { saveModel } from "../../src/store/model-file.js";
import { MODEL_DEFAULTS } from "../../src/train/presets.js";
import { fitModel } from "../../src/train/registry.js";

/**
 * Trains a small item-based AutoRec on synthetic data (movies titled "Film <id> (199x)", Drama for odd ids,
 * Comedy for even ones) and saves it with a three-epoch training curve into `dir`; returns the file. With
 * `ranker`, the file holds EASE, which ranks, with that AutoRec beside it for the predicted stars.
 */
export async function smallModelFile(dir: string, seed: number, ranker = false): Promise<string> {
  const data = await loadData("synthetic:users=200,items=80,ratings=8000,min=10", { seed });
  const movies = new Map<number, Movie>(
    Array.from(data.itemIds.ids as Int32Array, (id) => [
      id,
      {
        id,
        title: `Film ${id} (199${id % 10})`,
        year: 1990 + (id % 10),
        genres: id % 2 ? ["Drama"] : ["Comedy"],
      },
    ]),
  );
  const d = MODEL_DEFAULTS["autorec-i"];
  const settings = { ...d, model: { ...d.model, hidden: [16] }, train: { ...d.train, epochs: 20, l2: 10 } };
  const { model } = fitModel("autorec-i", data, { backend: createBackend(), settings });
  const file = join(dir, "model.safetensors");
  const history = [1, 2, 3].map((epoch) => ({
    epoch,
    trainLoss: 1 / epoch,
    validationRmse: 1.2 / epoch,
    seconds: 0,
  }));
  const ease = ranker
    ? fitModel("ease", data, { backend: createBackend(), settings: easeKind.override({ lambda: 30 }) })
    : undefined;
  await saveModel(file, ease?.model ?? model, {
    settings: ease ? easeKind.override({ lambda: 30 }) : settings,
    rater: ease && { model, settings },
    history,
    dataset: data.dataset,
    split: data.split,
    userIds: data.userIds,
    itemIds: data.itemIds,
    movies,
    metrics: { test: { rmse: 0.9, mae: 0.7 } },
  });
  return file;
}
