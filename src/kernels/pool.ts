import { Worker } from "node:worker_threads";

/** Element-wise kernels a pool can split across threads, by op code. */
export const POOL_OPS = { rmspropStep: 1, adamStep: 2, sgdStep: 3 } as const;
export type PoolOp = keyof typeof POOL_OPS;

const SEQ = 0;
const DONE = 1;
const OP = 2;
/** Integer slots: [seq, done, op]; then per worker its [start, count]. */
const INT_SLOTS = 3;
const MAX_ARGS = 16;
/** Spins before a waiting side sleeps: hand-offs between optimizer steps are microseconds apart. */
const SPINS = 20000;

// The worker instantiates the same kernel module on the same shared memory and runs its share of each op.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { module, memory, ints, floats, index, spins } = workerData;
const x = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error("kernel aborted"); } } }).exports;
const ctl = new Int32Array(ints);
const a = new Float64Array(floats);
const ops = {
  1: (s, n) => x.rmspropStep(a[0] + 4 * s, a[1] + 4 * s, a[2] + 4 * s, n, a[3], a[4], a[5], a[6]),
  2: (s, n) => x.adamStep(a[0] + 4 * s, a[1] + 4 * s, a[2] + 4 * s, a[3] + 4 * s, n, a[4], a[5], a[6], a[7], a[8], a[9], a[10]),
  3: (s, n) => x.sgdStep(a[0] + 4 * s, a[1] + 4 * s, a[2] + 4 * s, n, a[3], a[4], a[5], a[6]),
};
let seen = 0;
for (;;) {
  let seq = Atomics.load(ctl, ${SEQ});
  for (let i = 0; seq === seen && i < spins; i++) seq = Atomics.load(ctl, ${SEQ});
  if (seq === seen) { Atomics.wait(ctl, ${SEQ}, seen); continue; }
  seen = seq;
  if (ctl[${OP}] === 0) break;
  ops[ctl[${OP}]](ctl[${INT_SLOTS} + 2 * index], ctl[${INT_SLOTS} + 2 * index + 1]);
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

/**
 * Extra threads that run shares of element-wise kernels on the same WebAssembly memory. The calling thread
 * takes the last share, so `threads` counts it. Results do not depend on the thread count: each element is
 * updated by exactly one thread with the same arithmetic.
 */
export class KernelPool {
  private readonly workers: Worker[];
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private seq = 0;

  constructor(
    readonly threads: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
  ) {
    const ints = new SharedArrayBuffer(4 * (INT_SLOTS + 2 * threads));
    const floats = new SharedArrayBuffer(8 * MAX_ARGS);
    this.ctl = new Int32Array(ints);
    this.args = new Float64Array(floats);
    this.workers = Array.from({ length: threads - 1 }, (_, index) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, ints, floats, index, spins: SPINS },
      });
      worker.unref();
      return worker;
    });
  }

  /**
   * Runs `op` over n elements: workers take the first shares, `self` runs the last one (start, count).
   * `args` are the kernel's arguments with pointers as byte offsets, laid out as the worker reads them.
   */
  run(op: PoolOp, n: number, args: number[], self: (start: number, count: number) => void): void {
    const t = this.threads;
    const share = Math.ceil(n / t / 4) * 4;
    for (let w = 0; w < t - 1; w++) {
      const start = Math.min(n, w * share);
      this.ctl[INT_SLOTS + 2 * w] = start;
      this.ctl[INT_SLOTS + 2 * w + 1] = Math.min(n, start + share) - start;
    }
    this.args.set(args);
    this.ctl[OP] = POOL_OPS[op];
    Atomics.store(this.ctl, DONE, 0);
    Atomics.store(this.ctl, SEQ, ++this.seq);
    Atomics.notify(this.ctl, SEQ);
    const start = Math.min(n, (t - 1) * share);
    self(start, n - start);
    for (let i = 0; Atomics.load(this.ctl, DONE) < t - 1; i++) {
      if (i > SPINS) Atomics.wait(this.ctl, DONE, Atomics.load(this.ctl, DONE), 1);
    }
  }

  /** Stops the workers. */
  close(): void {
    this.ctl[OP] = 0;
    Atomics.store(this.ctl, SEQ, ++this.seq);
    Atomics.notify(this.ctl, SEQ);
    for (const w of this.workers) void w.terminate();
  }
}
