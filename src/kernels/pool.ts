import { Worker } from "node:worker_threads";

/** One kernel call: an export of the WebAssembly module and its arguments (pointers as byte offsets). */
export interface KernelCall {
  fn: string;
  args: number[];
}

const SEQ = 0;
const DONE = 1;
const QUIT = 2;
/** Set by a worker whose call threw (a WebAssembly trap): its index + 1. */
const FAILED = 3;
/** Integer slots: [seq, done, quit, failed], then per thread [function index, argument count]. */
const HEADER = 4;
const MAX_ARGS = 24;
/** Spins before a waiting side sleeps: hand-offs within a training step are microseconds apart. */
const SPINS = 20000;

// Each worker instantiates the same kernel module on the same shared memory and runs the call it is given.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { module, memory, ints, floats, results, index, names, spins } = workerData;
const x = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error("kernel aborted"); } } }).exports;
const fns = names.map((name) => x[name]);
const ctl = new Int32Array(ints);
const args = new Float64Array(floats, index * ${MAX_ARGS} * 8, ${MAX_ARGS});
const out = new Float64Array(results);
let seen = 0;
for (;;) {
  let seq = Atomics.load(ctl, ${SEQ});
  for (let i = 0; seq === seen && i < spins; i++) seq = Atomics.load(ctl, ${SEQ});
  if (seq === seen) { Atomics.wait(ctl, ${SEQ}, seen); continue; }
  seen = seq;
  if (ctl[${QUIT}]) break;
  const fn = ctl[${HEADER} + 2 * index];
  if (fn >= 0) {
    const n = ctl[${HEADER} + 2 * index + 1];
    try {
      out[index] = fns[fn](...Array.prototype.slice.call(args, 0, n)) ?? 0;
    } catch (e) {
      // A trap must still reach the barrier, or the caller would wait forever: report it instead.
      Atomics.store(ctl, ${FAILED}, index + 1);
    }
  }
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

/**
 * Worker threads that run kernel calls on the same WebAssembly memory as the calling thread. `run` hands
 * one call to each thread, the caller taking the last, and returns when all are done: a parallel region
 * with a barrier at its end. Each output element is written by exactly one thread, so a run is
 * reproducible for a given thread count; results can still differ between thread counts where a kernel
 * reduces partial sums per thread (dot products, sums of squares), whose order then changes. A call that
 * traps on a worker is rethrown by `run` on the caller.
 */
export class KernelPool {
  private readonly workers: Worker[];
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly results: Float64Array;
  private readonly index: Map<string, number>;
  private seq = 0;

  constructor(
    readonly threads: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    private readonly self: Record<string, (...args: number[]) => number | undefined>,
  ) {
    const names = WebAssembly.Module.exports(module)
      .filter((e) => e.kind === "function")
      .map((e) => e.name);
    this.index = new Map(names.map((n, i) => [n, i]));
    const ints = new SharedArrayBuffer(4 * (HEADER + 2 * threads));
    const floats = new SharedArrayBuffer(8 * MAX_ARGS * threads);
    const results = new SharedArrayBuffer(8 * threads);
    this.ctl = new Int32Array(ints);
    this.args = new Float64Array(floats);
    this.results = new Float64Array(results);
    this.workers = Array.from({ length: threads - 1 }, (_, index) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, ints, floats, results, index, names, spins: SPINS },
      });
      worker.unref();
      return worker;
    });
  }

  /**
   * Runs calls[t] on thread t (null: nothing); returns each call's numeric result (0 for none) in an array
   * that the next run overwrites.
   */
  run(calls: (KernelCall | null)[]): Float64Array {
    const t = this.threads;
    for (let w = 0; w < t - 1; w++) {
      const call = calls[w];
      this.ctl[HEADER + 2 * w] = call ? this.index.get(call.fn)! : -1;
      if (call) {
        this.ctl[HEADER + 2 * w + 1] = call.args.length;
        this.args.set(call.args, w * MAX_ARGS);
      }
    }
    Atomics.store(this.ctl, DONE, 0);
    Atomics.store(this.ctl, FAILED, 0);
    Atomics.store(this.ctl, SEQ, ++this.seq);
    Atomics.notify(this.ctl, SEQ);
    const mine = calls[t - 1];
    let own: unknown;
    try {
      this.results[t - 1] = mine ? (this.self[mine.fn](...mine.args) ?? 0) : 0;
    } catch (e) {
      own = e;
    }
    for (let i = 0; Atomics.load(this.ctl, DONE) < t - 1; i++) {
      if (i > SPINS) Atomics.wait(this.ctl, DONE, Atomics.load(this.ctl, DONE), 1);
    }
    if (own) throw own;
    const failed = Atomics.load(this.ctl, FAILED);
    if (failed > 0) {
      const call = calls[failed - 1];
      throw new Error(
        `kernel ${call?.fn} trapped on worker thread ${failed} (an index or size out of range)`,
      );
    }
    return this.results;
  }

  /** Stops the workers. */
  close(): void {
    this.ctl[QUIT] = 1;
    Atomics.store(this.ctl, SEQ, ++this.seq);
    Atomics.notify(this.ctl, SEQ);
    for (const w of this.workers) void w.terminate();
  }
}
