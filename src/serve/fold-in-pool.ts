import { Worker } from "node:worker_threads";
import { type MovieRating, type MovieScore, RatingsError } from "../model/recommender.js";
import { HttpError } from "./errors.js";

/** What the pool's workers open: the served model file, checked against the fingerprint the service loaded. */
export interface FoldInSource {
  modelFile: string;
  ratingModelFile?: string;
  fingerprint: string;
}

/** How big the pool is and how long it waits. */
export interface FoldInPoolOptions {
  /** Worker threads (default 1: on two cores, one for the event loop and one for fold-ins). */
  workers?: number;
  /** Fold-ins that may wait for a busy worker; past it a request is answered 503 with Retry-After (default 16). */
  maxQueued?: number;
  /** A fold-in running longer is abandoned (its worker restarted) and answered 503 (default 10 s). */
  timeoutMs?: number;
}

interface Job {
  id: number;
  ratings: MovieRating[];
  k: number;
  resolve: (items: MovieScore[]) => void;
  reject: (e: Error) => void;
  /** Settles, never rejecting, when the job has its answer. */
  finished: Promise<void>;
  timer?: NodeJS.Timeout;
}

/** What a worker says: it is ready, it could not start, or a fold-in's items or error. */
interface WorkerMessage {
  ready?: true;
  failed?: string;
  id?: number;
  items?: MovieScore[];
  error?: string;
  badRatings?: boolean;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

/** The compiled worker beside this module (tests that run the sources use the built one in dist/). */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts")
    ? new URL(here.replace("/src/serve/fold-in-pool.ts", "/dist/serve/fold-in-worker.js"))
    : new URL("./fold-in-worker.js", here);
}

/**
 * Worker threads that fold people in off the event loop, each with its own copy of the model, so that
 * /health and cheap routes answer while a slow fold-in runs. Bounded: a full queue answers 503 with
 * Retry-After instead of queueing forever, and a fold-in past its time is abandoned.
 */
export class FoldInPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private seq = 0;
  private closed = false;
  private readonly maxQueued: number;
  private readonly timeoutMs: number;

  private constructor(
    private readonly source: FoldInSource,
    options: FoldInPoolOptions,
  ) {
    this.maxQueued = options.maxQueued ?? 16;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Starts the workers; resolves when every one has the model loaded, or rejects with why one could not. */
  static async start(source: FoldInSource, options: FoldInPoolOptions = {}): Promise<FoldInPool> {
    const pool = new FoldInPool(source, options);
    try {
      await Promise.all(Array.from({ length: options.workers ?? 1 }, () => pool.spawn()));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Fold-ins waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  private spawn(): Promise<void> {
    const worker = new Worker(workerUrl(), { workerData: this.source });
    const slot: Slot = { worker, job: null };
    return new Promise((resolve, reject) => {
      worker.on("message", (m: WorkerMessage) => {
        if (m.ready) {
          this.slots.push(slot);
          resolve();
          this.dispatch();
        } else if (m.failed !== undefined) reject(new Error(m.failed));
        else if (m.error === undefined) this.finish(slot, { items: m.items! });
        else this.finish(slot, { error: m.badRatings ? new RatingsError(m.error) : new Error(m.error) });
      });
      worker.on("error", (e) => {
        reject(e);
        this.lost(slot, e);
      });
      worker.on("exit", (code) => {
        if (code !== 0) this.lost(slot, new Error(`a fold-in worker stopped (exit code ${code})`));
      });
    });
  }

  /** A worker that died or was stopped: its fold-in fails and a fresh worker takes its place. */
  private lost(slot: Slot, error: Error): void {
    const at = this.slots.indexOf(slot);
    if (at < 0) return;
    this.slots.splice(at, 1);
    if (slot.job) this.settle(slot.job, { error });
    if (this.closed) return;
    this.spawn().catch((e: Error) => {
      // With no worker left, nothing would ever take the queued fold-ins.
      if (this.slots.length > 0) return;
      for (const job of this.queue.splice(0))
        this.settle(job, { error: new HttpError(503, `no fold-in worker could start: ${e.message}`) });
    });
  }

  /** Folds someone in from `ratings`: his top k. */
  run(ratings: MovieRating[], k: number): Promise<MovieScore[]> {
    if (this.closed)
      return Promise.reject(new HttpError(503, "the service is shutting down", { "retry-after": "1" }));
    const idle = this.slots.some((s) => !s.job);
    if (!idle && this.queue.length >= this.maxQueued) {
      return Promise.reject(
        new HttpError(503, `busy: ${this.queue.length} fold-ins are waiting; try again shortly`, {
          "retry-after": "1",
        }),
      );
    }
    let job!: Job;
    const answer = new Promise<MovieScore[]>((resolve, reject) => {
      job = { id: ++this.seq, ratings, k, resolve, reject, finished: Promise.resolve() };
    });
    job.finished = answer.then(
      () => {},
      () => {},
    );
    this.queue.push(job);
    this.dispatch();
    return answer;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      job.timer = setTimeout(() => {
        this.settle(job, {
          error: new HttpError(503, `the fold-in took over ${this.timeoutMs / 1000} s and was stopped`, {
            "retry-after": "1",
          }),
        });
        slot.job = null;
        slot.worker.terminate().catch(() => {});
      }, this.timeoutMs);
      slot.worker.postMessage({ id: job.id, ratings: job.ratings, k: job.k });
    }
  }

  private finish(slot: Slot, outcome: { items: MovieScore[] } | { error: Error }): void {
    const job = slot.job;
    slot.job = null;
    if (job) this.settle(job, outcome);
    this.dispatch();
  }

  private settle(job: Job, outcome: { items: MovieScore[] } | { error: Error }): void {
    clearTimeout(job.timer);
    if ("items" in outcome) job.resolve(outcome.items);
    else job.reject(outcome.error);
  }

  /** Lets the running fold-ins finish, refuses the queued ones, and stops the workers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      this.settle(job, {
        error: new HttpError(503, "this model's fold-in workers are stopping; try again", {
          "retry-after": "1",
        }),
      });
    await Promise.all(this.slots.flatMap((s) => (s.job ? [s.job.finished] : [])));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }
}
