import { createHash } from "node:crypto";
import { z } from "zod";
import type { Movie } from "../data/movies.js";
import { IdMap, Ratings } from "../data/ratings.js";
import { ACTIVATIONS, type Activation, type Backend } from "../kernels/index.js";
import { transposeInto } from "../model/autoencoder.js";
import { AutoencoderModel } from "../model/autoencoder-model.js";
import type { Checkpoint } from "../train/fit.js";
import { MODEL_KINDS } from "../train/presets.js";
import { ModelFileError, readSafetensors, type Tensor, writeSafetensors } from "./safetensors.js";

/** Version of the model file layout; files of another version are refused. */
export const MODEL_FORMAT_VERSION = 1;

const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as [Activation, ...Activation[]];

const headerSchema = z.object({
  format: z.literal("aerec-model"),
  version: z.number().int(),
  kind: z.enum(MODEL_KINDS),
  config: z.object({
    orientation: z.enum(["user", "item"]),
    hidden: z.array(z.number().int().positive()).min(1),
    activation: z.enum(ACTIVATION_NAMES),
    outputActivation: z.enum(ACTIVATION_NAMES),
    inputScaling: z.enum(["none", "inverse-sqrt-count"]),
    centered: z.boolean(),
    inputOffset: z.number().nonnegative().optional(),
    tied: z.boolean().optional(),
  }),
  offset: z.number(),
  scale: z.object({ min: z.number(), max: z.number(), step: z.number().positive() }),
  dataset: z.string(),
  split: z.string(),
  nUsers: z.number().int().nonnegative(),
  nItems: z.number().int().positive(),
  training: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
  /** SHA-256 of the training ratings (user CSR: indptr, movie indices, values) and the id maps. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  movies: z.array(z.tuple([z.number().int(), z.string(), z.number().int().nullable(), z.array(z.string())])),
  checkpoint: z
    .object({
      epoch: z.number().int().nonnegative(),
      optimizerSteps: z.number().int().nonnegative(),
      optimizerState: z.array(z.string()),
      rng: z.array(z.number().nullable()),
      best: z.object({ epoch: z.number().int(), rmse: z.number().nullable() }),
      history: z.array(
        z.object({
          epoch: z.number(),
          trainLoss: z.number(),
          validationRmse: z.number().optional(),
          seconds: z.number(),
        }),
      ),
    })
    .optional(),
});

/** What a model file says about its model, besides the weights. */
export type ModelHeader = z.infer<typeof headerSchema>;

/** A model read back from a file, with the id maps and movies it was trained with. */
export interface LoadedModel {
  /** The state to resume training from, when the file was saved with one. */
  checkpoint?: Checkpoint;
  model: AutoencoderModel;
  header: ModelHeader;
  userIds: IdMap;
  itemIds: IdMap;
  movies: Map<number, Movie>;
}

/** Everything about a trained model that goes into its file besides the weights. */
export interface ModelDescription {
  kind: (typeof MODEL_KINDS)[number];
  dataset: string;
  split: string;
  userIds: IdMap;
  itemIds: IdMap;
  movies: Map<number, Movie>;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /** Saved so that `aerec train --resume` can continue exactly (first-order optimizers). */
  checkpoint?: Checkpoint;
}

/**
 * Saves a model as safetensors: the weights under PyTorch's names and layouts (fc1.weight is [h][nInputs]),
 * the training ratings (by user) the model reads its inputs from, and the id maps; the header (format version, kind,
 * configuration, scale, movies, training settings and metrics) is JSON in the metadata field "aerec".
 */
export async function saveModel(
  file: string,
  model: AutoencoderModel,
  about: ModelDescription,
): Promise<void> {
  const { network } = model;
  const targets = model.train.byUser();
  const tensors: Record<string, Tensor> = {};
  for (const t of network.tensors) {
    const [rows, cols] = t.shape;
    tensors[t.name] = t.transposed
      ? { dtype: "F32", shape: [cols, rows], data: transposed(t.data, rows, cols) }
      : { dtype: "F32", shape: t.shape, data: t.data.slice() };
  }
  tensors["ratings.indptr"] = { dtype: "I32", shape: [targets.indptr.length], data: targets.indptr.slice() };
  tensors["ratings.items"] = { dtype: "I32", shape: [targets.indices.length], data: targets.indices.slice() };
  tensors["ratings.values"] = { dtype: "F32", shape: [targets.values.length], data: targets.values.slice() };
  const saved = about.checkpoint;
  if (saved) {
    tensors["train.params"] = { dtype: "F32", shape: [saved.params.length], data: saved.params.slice() };
    if (saved.state.best.params) {
      tensors["train.best"] = {
        dtype: "F32",
        shape: [saved.params.length],
        data: saved.state.best.params.slice(),
      };
    }
    for (const [name, values] of Object.entries(saved.state.optimizerState)) {
      tensors[`optimizer.${name}`] = { dtype: "F32", shape: [values.length], data: values.slice() };
    }
  }
  tensors["ids.users"] = { dtype: "I32", shape: [about.userIds.size], data: about.userIds.ids };
  tensors["ids.items"] = { dtype: "I32", shape: [about.itemIds.size], data: about.itemIds.ids };
  const header: ModelHeader = {
    format: "aerec-model",
    version: MODEL_FORMAT_VERSION,
    kind: about.kind,
    config: model.config,
    offset: model.offset,
    scale: model.scale,
    dataset: about.dataset,
    split: about.split,
    nUsers: targets.nRows,
    nItems: targets.nCols,
    training: about.training,
    metrics: about.metrics,
    fingerprint: fingerprint([
      targets.indptr,
      targets.indices,
      targets.values,
      about.userIds.ids,
      about.itemIds.ids,
    ]),
    checkpoint: saved && {
      epoch: saved.state.epoch,
      optimizerSteps: saved.state.optimizerSteps,
      optimizerState: Object.keys(saved.state.optimizerState),
      rng: saved.state.rng.map((x) => (Number.isNaN(x) ? null : x)),
      best: {
        epoch: saved.state.best.epoch,
        rmse: Number.isFinite(saved.state.best.rmse) ? saved.state.best.rmse : null,
      },
      history: saved.state.history,
    },
    movies: [...about.itemIds.ids].flatMap((id) => {
      const m = about.movies.get(id);
      return m ? [[m.id, m.title, m.year, m.genres] as [number, string, number | null, string[]]] : [];
    }),
  };
  await writeSafetensors(file, tensors, { aerec: JSON.stringify(header) });
}

/** Loads and validates a model file; any inconsistency is a ModelFileError naming the file and the problem. */
export async function loadModel(file: string, backend: Backend): Promise<LoadedModel> {
  const { tensors, metadata } = await readSafetensors(file);
  const fail = (why: string): never => {
    throw new ModelFileError(file, why);
  };
  if (typeof metadata.aerec !== "string") fail("not an aerec model file (no aerec header)");
  let raw: unknown;
  try {
    raw = JSON.parse(metadata.aerec);
  } catch {
    fail("the aerec header is not JSON");
  }
  const r = raw as { format?: unknown; version?: unknown; kind?: unknown };
  if (r.format === "aerec-model" && r.version !== MODEL_FORMAT_VERSION) {
    fail(
      `model file version ${r.version} is not supported (this aerec reads version ${MODEL_FORMAT_VERSION})`,
    );
  }
  if (r.format === "aerec-model" && !(MODEL_KINDS as readonly unknown[]).includes(r.kind)) {
    fail(`model kind ${JSON.stringify(r.kind)} is not supported (known: ${MODEL_KINDS.join(", ")})`);
  }
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`bad header field ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const header = parsed.data!;
  const need = (name: string, shape: number[], dtype: "F32" | "I32"): Tensor => {
    const t = tensors[name] ?? fail(`tensor ${name} is missing`);
    if (t.dtype !== dtype || t.shape.join(",") !== shape.join(",")) {
      fail(`tensor ${name} is ${t.dtype}[${t.shape}], expected ${dtype}[${shape}]`);
    }
    return t;
  };
  const { nUsers, nItems } = header;
  const indptr = need("ratings.indptr", [nUsers + 1], "I32").data as Int32Array;
  const nnz = indptr[nUsers];
  const items = need("ratings.items", [nnz], "I32").data as Int32Array;
  const values = need("ratings.values", [nnz], "F32").data as Float32Array;
  if (indptr[0] !== 0 || indptr.some((x, i) => i > 0 && x < indptr[i - 1]))
    fail("ratings.indptr is not ascending");
  if (items.some((i) => i < 0 || i >= nItems)) fail("ratings.items holds an index outside the catalogue");
  const userIds = new IdMap(need("ids.users", [nUsers], "I32").data as Int32Array);
  const itemIds = new IdMap(need("ids.items", [nItems], "I32").data as Int32Array);
  if (fingerprint([indptr, items, values, userIds.ids, itemIds.ids]) !== header.fingerprint) {
    fail("the training ratings or id maps do not match the file's fingerprint (the file is damaged)");
  }
  const users = new Int32Array(nnz);
  for (let u = 0; u < nUsers; u++) users.fill(u, indptr[u], indptr[u + 1]);
  const train = new Ratings(users, items, values, nUsers, nItems);
  const model = new AutoencoderModel(header.config, train, header.scale, backend, header.offset);
  for (const t of model.network.tensors) {
    const [rows, cols] = t.shape;
    const stored = need(t.name, t.transposed ? [cols, rows] : t.shape, "F32").data as Float32Array;
    if (t.transposed) transposeInto(t.data, stored, cols, rows);
    else t.data.set(stored);
    if (!t.data.every(Number.isFinite)) fail(`tensor ${t.name} holds NaN or infinite values`);
  }
  const movies = new Map(header.movies.map(([id, title, year, genres]) => [id, { id, title, year, genres }]));
  let checkpoint: Checkpoint | undefined;
  if (header.checkpoint) {
    const c = header.checkpoint;
    const n = model.network.params.length;
    const vector = (name: string) => need(name, [n], "F32").data as Float32Array;
    checkpoint = {
      params: vector("train.params"),
      offset: header.offset,
      state: {
        epoch: c.epoch,
        history: c.history,
        optimizerSteps: c.optimizerSteps,
        optimizerState: Object.fromEntries(
          c.optimizerState.map((name) => [name, vector(`optimizer.${name}`)]),
        ),
        rng: c.rng.map((x) => x ?? Number.NaN),
        best: {
          epoch: c.best.epoch,
          rmse: c.best.rmse ?? Number.POSITIVE_INFINITY,
          params: tensors["train.best"] ? vector("train.best") : null,
        },
      },
    };
  }
  return { model, header, userIds, itemIds, movies, checkpoint };
}

/** SHA-256 (hex) over the bytes of the arrays, in order. */
function fingerprint(arrays: ArrayBufferView[]): string {
  const hash = createHash("sha256");
  for (const a of arrays) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return hash.digest("hex");
}

/** A new array holding the [cols][rows] transpose of a row-major [rows][cols] matrix. */
function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  transposeInto(out, a, rows, cols);
  return out;
}
