import { createHash } from "node:crypto";
import { z } from "zod";
import type { Movie } from "../data/movies.js";
import { IdMap, Ratings, type RawId } from "../data/ratings.js";
import type { Backend } from "../kernels/index.js";
import { type EpochReport, type Model, type SavedParameters, tensorsUnder } from "../model/model.js";
import type { Checkpoint } from "../train/fit.js";
import { MODEL_KINDS, modelKind } from "../train/registry.js";
import { ModelFileError, readSafetensors, type Tensor, writeSafetensors } from "./safetensors.js";

/** Version of the model file layout; files of another version are refused. */
export const MODEL_FORMAT_VERSION = 3;

const epochSchema = z.object({
  epoch: z.number().int(),
  trainLoss: z.number(),
  validationRmse: z.number().optional(),
  validationNdcg: z.number().optional(),
  seconds: z.number(),
  evaluations: z.number().int().optional(),
  stage: z.string().optional(),
});

const rawIdSchema = z.union([z.number().int().nonnegative(), z.string()]);

const headerSchema = z.object({
  format: z.literal("aerec-model"),
  version: z.number().int(),
  kind: z.string(),
  /** What the model's save() wrote, checked against its kind's configSchema. */
  config: z.unknown(),
  /** The settings the model was trained with, checked against its kind's settingsSchema. */
  settings: z.unknown(),
  scale: z
    .object({ min: z.number().finite(), max: z.number().finite(), step: z.number().finite().positive() })
    // min = max on implicit data, where every rating is a 1.
    .refine((s) => s.min <= s.max, "the scale's min may not be above its max"),
  dataset: z.string(),
  split: z.string(),
  nUsers: z.number().int().nonnegative(),
  nItems: z.number().int().positive(),
  /** How the model was trained: kernels, threads, and the per-epoch history. */
  training: z.object({
    kernels: z.string().optional(),
    threads: z.number().int().optional(),
    history: z.array(epochSchema),
  }),
  metrics: z.record(z.string(), z.unknown()),
  /** SHA-256 of every tensor's name, dtype, shape and bytes, in name order: the whole data section. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  movies: z.array(z.tuple([rawIdSchema, z.string(), z.number().int().nullable(), z.array(z.string())])),
  /** Raw ids that are not all small integers (those are the I32 tensors ids.users and ids.items). */
  ids: z.object({ users: z.array(rawIdSchema), items: z.array(rawIdSchema) }).optional(),
  /** A rating model saved beside a top-N one, to predict the stars shown beside its lists. */
  rater: z.object({ kind: z.string(), config: z.unknown(), settings: z.unknown() }).optional(),
  checkpoint: z
    .object({
      epoch: z.number().int().nonnegative(),
      optimizerSteps: z.number().int().nonnegative(),
      optimizerState: z.array(z.string()),
      rng: z.array(z.number().nullable()),
      best: z.object({ epoch: z.number().int(), rmse: z.number().nullable() }),
    })
    .optional(),
});

/** What a model file says about its model, besides the tensors. */
export type ModelHeader = z.infer<typeof headerSchema>;

/** A model read back from a file, with the id maps and movies it was trained with. */
export interface LoadedModel {
  model: Model;
  /** The rating model saved beside a top-N model, if any. */
  rater?: Model;
  header: ModelHeader;
  /** The settings it was trained with, checked against its kind's schema. */
  settings: unknown;
  /** The state to resume training from, when the file was saved with one. */
  checkpoint?: Checkpoint;
  userIds: IdMap;
  itemIds: IdMap;
  movies: Map<RawId, Movie>;
}

/** Everything about a trained model that goes into its file besides its own parameters. */
export interface ModelDescription {
  settings: unknown;
  dataset: string;
  split: string;
  userIds: IdMap;
  itemIds: IdMap;
  movies: Map<RawId, Movie>;
  history: EpochReport[];
  kernels?: string;
  threads?: number;
  metrics: Record<string, unknown>;
  /** Saved so that `aerec train --resume` can continue exactly (first-order optimizers). */
  checkpoint?: Checkpoint;
  /** A rating model trained on the same ratings, kept beside a top-N model (its tensors under "rater."). */
  rater?: { model: Model; settings: unknown };
}

/** Names the model's own tensors may not take: the file's training ratings, ids, rater and training state. */
const RESERVED = /^(ratings|ids|train|optimizer|rater)\./;

/**
 * Saves a model of any kind as safetensors: the model's own tensors (autoencoders: the weights under
 * PyTorch's names and layouts), the training ratings (by user) it reads, and the id maps; the header
 * (format version, kind, configuration, settings, scale, movies, training history and metrics) is JSON in
 * the metadata field "aerec".
 */
export async function saveModel(file: string, model: Model, about: ModelDescription): Promise<void> {
  const own: SavedParameters = model.save();
  const targets = model.train.byUser();
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(own.tensors)) {
    if (RESERVED.test(name)) throw new Error(`a model tensor may not be called ${name}`);
    tensors[name] = t;
  }
  tensors["ratings.indptr"] = { dtype: "I32", shape: [targets.indptr.length], data: targets.indptr.slice() };
  tensors["ratings.items"] = { dtype: "I32", shape: [targets.indices.length], data: targets.indices.slice() };
  tensors["ratings.values"] = { dtype: "F32", shape: [targets.values.length], data: targets.values.slice() };
  const saved = about.checkpoint;
  if (saved) {
    tensors["train.params"] = { dtype: "F32", shape: [saved.params.length], data: saved.params.slice() };
    if (saved.state.best.params) {
      const best = saved.state.best.params;
      tensors["train.best"] = { dtype: "F32", shape: [best.length], data: best.slice() };
    }
    for (const [name, values] of Object.entries(saved.state.optimizerState)) {
      tensors[`optimizer.${name}`] = { dtype: "F32", shape: [values.length], data: values.slice() };
    }
  }
  const rater = about.rater && { ...about.rater, saved: about.rater.model.save() };
  if (rater) {
    if (rater.model.train !== model.train && rater.model.train.size !== model.train.size)
      throw new Error("the rating model was trained on other ratings than the model it is saved with");
    for (const [name, t] of Object.entries(rater.saved.tensors)) tensors[`rater.${name}`] = t;
  }
  const { userIds, itemIds } = about;
  const tableIds = userIds.ids instanceof Int32Array && itemIds.ids instanceof Int32Array;
  if (tableIds) {
    tensors["ids.users"] = { dtype: "I32", shape: [userIds.size], data: userIds.ids };
    tensors["ids.items"] = { dtype: "I32", shape: [itemIds.size], data: itemIds.ids };
  }
  const header: ModelHeader = {
    format: "aerec-model",
    version: MODEL_FORMAT_VERSION,
    kind: model.kind,
    config: own.config,
    settings: about.settings,
    scale: model.scale,
    dataset: about.dataset,
    split: about.split,
    nUsers: targets.nRows,
    nItems: targets.nCols,
    training: { kernels: about.kernels, threads: about.threads, history: about.history },
    metrics: about.metrics,
    fingerprint: "",
    rater: rater && { kind: rater.model.kind, config: rater.saved.config, settings: rater.settings },
    checkpoint: saved && {
      epoch: saved.state.epoch,
      optimizerSteps: saved.state.optimizerSteps,
      optimizerState: Object.keys(saved.state.optimizerState),
      rng: saved.state.rng.map((x) => (Number.isNaN(x) ? null : x)),
      best: {
        epoch: saved.state.best.epoch,
        rmse: Number.isFinite(saved.state.best.rmse) ? saved.state.best.rmse : null,
      },
    },
    movies: Array.from(itemIds.ids as ArrayLike<RawId>).flatMap((id) => {
      const m = about.movies.get(id);
      return m ? [[m.id, m.title, m.year, m.genres] as [RawId, string, number | null, string[]]] : [];
    }),
    ids: tableIds ? undefined : { users: [...userIds.ids], items: [...itemIds.ids] },
  };
  header.fingerprint = fingerprint(tensors, header);
  await writeSafetensors(file, tensors, { aerec: JSON.stringify(header) });
}

/** The first zod issue as "field: message". */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue.path.join(".") || "(root)"}: ${issue.message}`;
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
  const r = (raw ?? {}) as { format?: unknown; version?: unknown; kind?: unknown };
  if (r.format === "aerec-model" && r.version !== MODEL_FORMAT_VERSION) {
    fail(
      `model file version ${r.version} is not supported (this aerec reads version ${MODEL_FORMAT_VERSION}; ` +
        "train the model again to save it in this version)",
    );
  }
  if (r.format === "aerec-model" && !MODEL_KINDS.includes(r.kind as string)) {
    fail(`model kind ${JSON.stringify(r.kind)} is not supported (known: ${MODEL_KINDS.join(", ")})`);
  }
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success) fail(`bad header field ${firstIssue(parsed.error)}`);
  const header = parsed.data!;
  if (fingerprint(tensors, raw as object) !== header.fingerprint) {
    fail("the tensors or the header do not match the file's fingerprint (the file is damaged or was edited)");
  }
  const settings = modelKind(header.kind).settingsSchema.safeParse(header.settings);
  if (!settings.success) fail(`bad header field settings.${firstIssue(settings.error)}`);
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
  const idMap = (saved: RawId[] | undefined, tensor: string, n: number, what: string) => {
    if (!saved) return new IdMap(need(tensor, [n], "I32").data as Int32Array);
    if (saved.length !== n) fail(`the header lists ${saved.length} ${what} ids for ${n} ${what}`);
    const map = IdMap.fromRaw(saved);
    if (map.size !== n || !saved.every((id, i) => map.idAt(i) === id))
      fail(`the header's ${what} ids are not unique and ascending`);
    return map;
  };
  const userIds = idMap(header.ids?.users, "ids.users", nUsers, "user");
  const itemIds = idMap(header.ids?.items, "ids.items", nItems, "item");
  const users = new Int32Array(nnz);
  for (let u = 0; u < nUsers; u++) users.fill(u, indptr[u], indptr[u + 1]);
  const train = new Ratings(users, items, values, nUsers, nItems);
  /** A model of `kindName` from its config and tensors; `where` ("" or "rater") names it in errors. */
  const loadPart = (kindName: string, rawConfig: unknown, own: Record<string, Tensor>, where: string) => {
    const kind = modelKind(kindName);
    const config = kind.configSchema.safeParse(rawConfig);
    if (!config.success)
      fail(`bad header field ${where ? `${where}.` : ""}config.${firstIssue(config.error)}`);
    try {
      return kind.load(
        { config: config.data, tensors: own },
        { backend, train, scale: header.scale, kinds: modelKind },
      );
    } catch (e) {
      return fail(`${where ? `${where}: ` : ""}${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const own = Object.fromEntries(Object.entries(tensors).filter(([name]) => !RESERVED.test(name)));
  const model = loadPart(header.kind, header.config, own, "");
  let rater: Model | undefined;
  if (header.rater) {
    if (!MODEL_KINDS.includes(header.rater.kind))
      fail(`rater kind ${JSON.stringify(header.rater.kind)} is not supported`);
    rater = loadPart(header.rater.kind, header.rater.config, tensorsUnder(tensors, "rater."), "rater");
  }
  const movies = new Map(header.movies.map(([id, title, year, genres]) => [id, { id, title, year, genres }]));
  let checkpoint: Checkpoint | undefined;
  if (header.checkpoint) {
    const c = header.checkpoint;
    const n = (tensors["train.params"] ?? fail("tensor train.params is missing")).data.length;
    const vector = (name: string) => need(name, [n], "F32").data as Float32Array;
    checkpoint = {
      params: vector("train.params"),
      state: {
        epoch: c.epoch,
        history: header.training.history,
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
  return { model, rater, header, settings: settings.data, userIds, itemIds, movies, checkpoint };
}

/** SHA-256 (hex) over the header (less its fingerprint) and every tensor's name, dtype, shape and bytes. */
function fingerprint(tensors: Record<string, Tensor>, header: object): string {
  const hash = createHash("sha256");
  // The header as written, less the fingerprint itself: its key order survives JSON.parse.
  const { fingerprint: _, ...rest } = header as { fingerprint?: string };
  hash.update(JSON.stringify(rest));
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name];
    hash.update(`${name}:${t.dtype}:${t.shape.join("x")};`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest("hex");
}
