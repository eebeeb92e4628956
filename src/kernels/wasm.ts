import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { KernelPool, type PoolOp } from "./pool.js";
import {
  ACTIVATIONS,
  type Activation,
  type AdamStep,
  type Arena,
  type Backend,
  type Kernels,
  type RmspropStep,
  type RowBatch,
  type SgdStep,
} from "./types.js";

const PAGE = 65536;
const MAX_PAGES = 65536;
/** The first page stays unused so that offset 0 can mean "no array". */
const HEAP_START = PAGE;
/** Element-wise updates smaller than this stay on one thread: the hand-off would cost more than it saves. */
const SPLIT_MIN = 16384;

interface WasmExports {
  fill(out: number, n: number, value: number): void;
  flushSubnormals(x: number, n: number): void;
  rmspropStep(
    p: number,
    g: number,
    v: number,
    n: number,
    lr: number,
    alpha: number,
    eps: number,
    wd: number,
  ): void;
  adamStep(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    wd: number,
    bc1: number,
    sqrtBc2: number,
  ): void;
  sgdStep(
    p: number,
    g: number,
    buf: number,
    n: number,
    lr: number,
    momentum: number,
    wd: number,
    first: number,
  ): void;
  sparseAffine(...args: number[]): void;
  sparseAffineBackward(...args: number[]): void;
  denseAffine(...args: number[]): void;
  denseAffineBackward(...args: number[]): void;
  sparseOutput(...args: number[]): void;
  sparseOutputBackward(...args: number[]): void;
  squaredError(...args: number[]): number;
  activate(x: number, n: number, kind: number): void;
  activateBackward(dx: number, dy: number, y: number, n: number, kind: number): void;
  addScaled(y: number, x: number, a: number, n: number): void;
  multiply(x: number, m: number, n: number): void;
  sumSquares(x: number, n: number): number;
  dotProduct(x: number, y: number, n: number): number;
}

let compiled: WebAssembly.Module | undefined;

/** The compiled kernel module (build/kernels.wasm, made by `npm run build:wasm`), compiled once. */
export function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    const file = fileURLToPath(new URL("../../build/kernels.wasm", import.meta.url));
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch {
      throw new Error(
        `WebAssembly kernels not found at ${file}: run "npm run build:wasm", or use --kernels reference`,
      );
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** True when this runtime can run the SIMD kernels (WebAssembly SIMD and shared memory). */
export function wasmSimdAvailable(): boolean {
  try {
    kernelModule();
    return true;
  } catch {
    return false;
  }
}

/** A bump allocator over one shared WebAssembly memory; views stay valid when the memory grows. */
class WasmArena implements Arena {
  private top = HEAP_START;
  constructor(readonly memory: WebAssembly.Memory) {}

  private reserve(bytes: number): number {
    const start = (this.top + 15) & ~15;
    const end = start + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new RangeError(`model needs ${(end / 2 ** 30).toFixed(2)} GiB, over WebAssembly's 4 GiB`);
      }
      this.memory.grow(pages);
    }
    this.top = end;
    return start;
  }

  f32(n: number): Float32Array {
    const offset = this.reserve(n * 4);
    return new Float32Array(this.memory.buffer, offset, n);
  }

  i32(n: number): Int32Array {
    const offset = this.reserve(n * 4);
    return new Int32Array(this.memory.buffer, offset, n);
  }
}

/** The byte offset of an array in the kernels' memory; arrays from anywhere else are refused. */
function ptr(a: ArrayBufferView | null): number {
  if (!a) return 0;
  if (!(a.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(
      "a WebAssembly kernel was given an array outside its memory: allocate it from the backend's arena",
    );
  }
  return a.byteOffset;
}

class WasmKernels implements Kernels {
  readonly name = "wasm-simd";
  constructor(
    private readonly x: WasmExports,
    private readonly pool: KernelPool | null,
  ) {}

  fill(out: Float32Array, n: number, value: number): void {
    this.x.fill(ptr(out), n, value);
  }
  flushSubnormals(x: Float32Array, n: number): void {
    this.x.flushSubnormals(ptr(x), n);
  }
  rmspropStep(p: Float32Array, g: Float32Array, v: Float32Array, n: number, hp: RmspropStep): void {
    const a = [ptr(p), ptr(g), ptr(v), hp.lr, hp.alpha, hp.eps, hp.weightDecay];
    this.split("rmspropStep", n, a, (s, c) =>
      this.x.rmspropStep(a[0] + 4 * s, a[1] + 4 * s, a[2] + 4 * s, c, a[3], a[4], a[5], a[6]),
    );
  }
  adamStep(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    n: number,
    hp: AdamStep,
  ): void {
    const bc1 = 1 - hp.beta1 ** hp.step;
    const sqrtBc2 = Math.sqrt(1 - hp.beta2 ** hp.step);
    const a = [
      ptr(p),
      ptr(g),
      ptr(m),
      ptr(v),
      hp.lr,
      hp.beta1,
      hp.beta2,
      hp.eps,
      hp.weightDecay,
      bc1,
      sqrtBc2,
    ];
    this.split("adamStep", n, a, (s, c) =>
      this.x.adamStep(
        a[0] + 4 * s,
        a[1] + 4 * s,
        a[2] + 4 * s,
        a[3] + 4 * s,
        c,
        a[4],
        a[5],
        a[6],
        a[7],
        a[8],
        a[9],
        a[10],
      ),
    );
  }
  sgdStep(p: Float32Array, g: Float32Array, buf: Float32Array, n: number, hp: SgdStep): void {
    const a = [ptr(p), ptr(g), ptr(buf), hp.lr, hp.momentum, hp.weightDecay, hp.first ? 1 : 0];
    this.split("sgdStep", n, a, (s, c) =>
      this.x.sgdStep(a[0] + 4 * s, a[1] + 4 * s, a[2] + 4 * s, c, a[3], a[4], a[5], a[6]),
    );
  }

  /** Runs an element-wise op over n elements, across the pool's threads when it is large enough. */
  private split(op: PoolOp, n: number, args: number[], run: (start: number, count: number) => void): void {
    if (this.pool && n >= SPLIT_MIN) this.pool.run(op, n, args, run);
    else run(0, n);
  }
  sparseAffine(out: Float32Array, b: RowBatch, w: Float32Array, bias: Float32Array, h: number): void {
    this.x.sparseAffine(
      ptr(out),
      ptr(b.rows),
      b.nRows,
      ptr(b.indptr),
      ptr(b.indices),
      ptr(b.values),
      ptr(w),
      ptr(bias),
      h,
    );
  }
  sparseAffineBackward(
    dw: Float32Array,
    dBias: Float32Array,
    b: RowBatch,
    dOut: Float32Array,
    h: number,
  ): void {
    this.x.sparseAffineBackward(
      ptr(dw),
      ptr(dBias),
      ptr(b.rows),
      b.nRows,
      ptr(b.indptr),
      ptr(b.indices),
      ptr(b.values),
      ptr(dOut),
      h,
    );
  }
  denseAffine(
    out: Float32Array,
    inp: Float32Array,
    w: Float32Array,
    bias: Float32Array,
    nRows: number,
    nIn: number,
    nOut: number,
  ): void {
    this.x.denseAffine(ptr(out), ptr(inp), ptr(w), ptr(bias), nRows, nIn, nOut);
  }
  denseAffineBackward(
    dw: Float32Array,
    dBias: Float32Array,
    dInp: Float32Array | null,
    dOut: Float32Array,
    inp: Float32Array,
    w: Float32Array,
    nRows: number,
    nIn: number,
    nOut: number,
  ): void {
    this.x.denseAffineBackward(ptr(dw), ptr(dBias), ptr(dInp), ptr(dOut), ptr(inp), ptr(w), nRows, nIn, nOut);
  }
  sparseOutput(
    pred: Float32Array,
    b: RowBatch,
    hidden: Float32Array,
    v: Float32Array,
    bias: Float32Array,
    h: number,
  ): void {
    this.x.sparseOutput(
      ptr(pred),
      ptr(b.rows),
      b.nRows,
      ptr(b.indptr),
      ptr(b.indices),
      ptr(hidden),
      ptr(v),
      ptr(bias),
      h,
    );
  }
  sparseOutputBackward(
    dv: Float32Array,
    dBias: Float32Array,
    dHidden: Float32Array,
    b: RowBatch,
    dPred: Float32Array,
    hidden: Float32Array,
    v: Float32Array,
    h: number,
  ): void {
    this.x.sparseOutputBackward(
      ptr(dv),
      ptr(dBias),
      ptr(dHidden),
      ptr(b.rows),
      b.nRows,
      ptr(b.indptr),
      ptr(b.indices),
      ptr(dPred),
      ptr(hidden),
      ptr(v),
      h,
    );
  }
  squaredError(dPred: Float32Array, pred: Float32Array, b: RowBatch, scale: number): number {
    return this.x.squaredError(
      ptr(dPred),
      ptr(pred),
      ptr(b.rows),
      b.nRows,
      ptr(b.indptr),
      ptr(b.values),
      scale,
    );
  }
  activate(x: Float32Array, n: number, kind: Activation): void {
    this.x.activate(ptr(x), n, ACTIVATIONS[kind]);
  }
  activateBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, n: number, kind: Activation): void {
    this.x.activateBackward(ptr(dx), ptr(dy), ptr(y), n, ACTIVATIONS[kind]);
  }
  addScaled(y: Float32Array, x: Float32Array, a: number, n: number): void {
    this.x.addScaled(ptr(y), ptr(x), a, n);
  }
  multiply(x: Float32Array, m: Float32Array, n: number): void {
    this.x.multiply(ptr(x), ptr(m), n);
  }
  dotProduct(x: Float32Array, y: Float32Array, n: number): number {
    return this.x.dotProduct(ptr(x), ptr(y), n);
  }
  sumSquares(x: Float32Array, n: number): number {
    return this.x.sumSquares(ptr(x), n);
  }
}

/**
 * A fresh WebAssembly SIMD backend: its own shared memory, arena and kernel instance, and with threads > 1
 * a pool of workers on the same memory for the element-wise optimizer updates.
 */
export function createWasmBackend(threads = 1): Backend {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
  const instance = new WebAssembly.Instance(kernelModule(), { env: { memory, abort: wasmAbort } });
  const pool = threads > 1 ? new KernelPool(threads, kernelModule(), memory) : null;
  return {
    kernels: new WasmKernels(instance.exports as unknown as WasmExports, pool),
    arena: new WasmArena(memory),
    threads,
    close: () => pool?.close(),
  };
}

function wasmAbort(): never {
  throw new Error("WebAssembly kernel aborted");
}
