import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { type KernelCall, KernelPool } from "./pool.js";
import {
  ACTIVATIONS,
  type Activation,
  type AdamStep,
  ALL_COLUMNS,
  type Arena,
  type Backend,
  type ColumnBatch,
  type ColumnRange,
  type Kernels,
  type RmspropStep,
  type RowBatch,
  type SgdStep,
} from "./types.js";

const PAGE = 65536;
const MAX_PAGES = 65536;
/** The first page stays unused so that offset 0 can mean "no array". */
const HEAP_START = PAGE;
/** Floats in one gemmAccumulate panel: a block of 256 inner steps by 256 columns. */
const GEMM_PANEL = 256 * 256;
/**
 * Work (in multiply-adds or elements) below which a kernel stays on one thread: a hand-off costs ~1 us.
 * Settable (setSplitMin) so that tests can split small problems across threads.
 */
let SPLIT_MIN = 32768;

/** Sets the work below which kernels stay on one thread, and returns the previous value (for tests). */
export function setSplitMin(work: number): number {
  const previous = SPLIT_MIN;
  SPLIT_MIN = work;
  return previous;
}

type Exports = Record<string, (...args: number[]) => number | undefined>;

/**
 * The two builds of assembly/kernels.ts: 128-bit SIMD with the product and the sum of a multiply-add rounded
 * apart (the same results on every CPU), and relaxed SIMD, whose multiply-adds are fused where the CPU has
 * FMA (faster, and rounded once: results may differ in the last bits between machines).
 */
export type WasmVariant = "simd" | "relaxed-simd";

const FILES: Record<WasmVariant, string> = {
  simd: "../../build/kernels.wasm",
  "relaxed-simd": "../../build/kernels-relaxed.wasm",
};
const compiled = new Map<WasmVariant, WebAssembly.Module>();
let relaxed: boolean | undefined;

function kernelBytes(variant: WasmVariant): Uint8Array<ArrayBuffer> {
  const file = fileURLToPath(new URL(FILES[variant], import.meta.url));
  try {
    return new Uint8Array(readFileSync(file));
  } catch {
    throw new Error(
      `WebAssembly kernels not found at ${file}: run "npm run build:wasm", or use --kernels reference`,
    );
  }
}

/** The compiled kernel module of a build (made by `npm run build:wasm`), compiled once. */
export function kernelModule(variant: WasmVariant = "simd"): WebAssembly.Module {
  let module = compiled.get(variant);
  if (!module) {
    module = new WebAssembly.Module(kernelBytes(variant));
    compiled.set(variant, module);
  }
  return module;
}

/**
 * True when this runtime runs relaxed SIMD. Node 22 and later have it; Node 20 has it behind a V8 flag,
 * which is switched on here (before any relaxed module is compiled) when the build would not validate.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxed === undefined) {
    try {
      const bytes = kernelBytes("relaxed-simd");
      if (!WebAssembly.validate(bytes)) setFlagsFromString("--experimental-wasm-relaxed-simd");
      relaxed = WebAssembly.validate(bytes);
      // Compiled from the bytes just read: it is asked for next (see createBackend).
      if (relaxed && !compiled.has("relaxed-simd"))
        compiled.set("relaxed-simd", new WebAssembly.Module(bytes));
    } catch {
      relaxed = false;
    }
  }
  return relaxed;
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
    // Offsets reach past 2 GiB, beyond JavaScript's 32-bit bitwise operators.
    const start = Math.ceil(this.top / 16) * 16;
    const end = start + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new RangeError(
          `the model needs ${(end / 2 ** 30).toFixed(2)} GiB, over WebAssembly's 4 GiB: use a smaller --hidden, or ` +
            "--optimizer adam instead of lbfgs (which keeps 2 x 10 more copies of the parameters)",
        );
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

/** Contiguous shares of `rows` with about equal numbers of observed entries: [rowStart, entryStart] per share. */
function rowShares(b: RowBatch, shares: number): { row: number; entry: number }[] {
  let total = 0;
  for (let i = 0; i < b.nRows; i++) total += b.indptr[b.rows[i] + 1] - b.indptr[b.rows[i]];
  const out = [{ row: 0, entry: 0 }];
  let seen = 0;
  for (let i = 0; i < b.nRows && out.length < shares; i++) {
    seen += b.indptr[b.rows[i] + 1] - b.indptr[b.rows[i]];
    if (seen >= (total * out.length) / shares) out.push({ row: i + 1, entry: seen });
  }
  while (out.length < shares) out.push({ row: b.nRows, entry: total });
  out.push({ row: b.nRows, entry: total });
  return out;
}

/**
 * The WebAssembly kernels. With a pool, the big ones run in parallel: row-wise kernels split the batch's
 * rows, the backward kernels split the output columns (each thread owns a range, so no two threads write
 * the same weight), element-wise ones split the elements.
 */
class WasmKernels implements Kernels {
  private scratch: Float32Array[] = [];
  /** gemmAccumulate's packing scratch, one per thread, made on first use. */
  private panels?: Float32Array[];

  constructor(
    readonly name: string,
    private readonly x: Exports,
    private readonly pool: KernelPool | null,
    private readonly arena: Arena,
  ) {}

  private get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Runs one call per share, in parallel when there is a pool; returns the calls' results. */
  private all(calls: KernelCall[]): ArrayLike<number> {
    if (this.pool && calls.length > 1) return this.pool.run(calls);
    return calls.map((c) => this.x[c.fn](...c.args) ?? 0);
  }

  /** Splits n elements into one share per thread (multiples of 4) when n is large enough; the shares' results. */
  private elementShares(n: number, call: (start: number, count: number) => KernelCall): ArrayLike<number> {
    const t = n >= SPLIT_MIN ? this.threads : 1;
    const share = Math.ceil(n / t / 4) * 4;
    const calls: KernelCall[] = [];
    for (let i = 0; i < t; i++) {
      const start = Math.min(n, i * share);
      calls.push(call(start, Math.min(n, start + share) - start));
    }
    return this.all(calls);
  }

  private splitRows(b: RowBatch, h: number): { row: number; entry: number }[] {
    let nnz = 0;
    for (let i = 0; i < b.nRows; i++) nnz += b.indptr[b.rows[i] + 1] - b.indptr[b.rows[i]];
    return rowShares(b, nnz * h >= SPLIT_MIN && b.nRows > 1 ? this.threads : 1);
  }

  fill(out: Float32Array, n: number, value: number): void {
    const p = ptr(out);
    this.elementShares(n, (s, c) => ({ fn: "fill", args: [p + 4 * s, c, value] }));
  }
  flushSubnormals(x: Float32Array, n: number): void {
    const p = ptr(x);
    this.elementShares(n, (s, c) => ({ fn: "flushSubnormals", args: [p + 4 * s, c] }));
  }
  rmspropStep(p: Float32Array, g: Float32Array, v: Float32Array, n: number, hp: RmspropStep): void {
    const [pp, gp, vp] = [ptr(p), ptr(g), ptr(v)];
    this.elementShares(n, (s, c) => ({
      fn: "rmspropStep",
      args: [
        pp + 4 * s,
        gp + 4 * s,
        vp + 4 * s,
        c,
        hp.lr,
        hp.alpha,
        hp.eps,
        hp.weightDecay,
        hp.zeroGrad ? 1 : 0,
      ],
    }));
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
    const [pp, gp, mp, vp] = [ptr(p), ptr(g), ptr(m), ptr(v)];
    this.elementShares(n, (s, c) => ({
      fn: "adamStep",
      args: [
        ...[
          pp + 4 * s,
          gp + 4 * s,
          mp + 4 * s,
          vp + 4 * s,
          c,
          hp.lr,
          hp.beta1,
          hp.beta2,
          hp.eps,
          hp.weightDecay,
        ],
        ...[bc1, sqrtBc2, hp.zeroGrad ? 1 : 0],
      ],
    }));
  }
  sgdStep(p: Float32Array, g: Float32Array, buf: Float32Array, n: number, hp: SgdStep): void {
    const [pp, gp, bp] = [ptr(p), ptr(g), ptr(buf)];
    this.elementShares(n, (s, c) => ({
      fn: "sgdStep",
      args: [
        pp + 4 * s,
        gp + 4 * s,
        bp + 4 * s,
        c,
        hp.lr,
        hp.momentum,
        hp.weightDecay,
        hp.first ? 1 : 0,
        hp.zeroGrad ? 1 : 0,
      ],
    }));
  }
  sparseAffine(out: Float32Array, b: RowBatch, w: Float32Array, bias: Float32Array, h: number): void {
    const shares = this.splitRows(b, h);
    const calls: KernelCall[] = [];
    for (let i = 0; i + 1 < shares.length; i++) {
      const [r0, r1] = [shares[i].row, shares[i + 1].row];
      calls.push({
        fn: "sparseAffine",
        args: [
          ptr(out) + 4 * r0 * h,
          ptr(b.rows) + 4 * r0,
          r1 - r0,
          ptr(b.indptr),
          ptr(b.indices),
          ptr(b.values),
          ptr(w),
          ptr(bias),
          h,
        ],
      });
    }
    this.all(calls);
  }
  sparseAffineBackward(
    dw: Float32Array,
    dBias: Float32Array,
    b: RowBatch,
    dOut: Float32Array,
    h: number,
    cols: ColumnRange = ALL_COLUMNS,
  ): void {
    const t = this.splitRows(b, h).length - 1;
    const nCols = dw.length / h;
    const calls: KernelCall[] = [];
    for (let i = 0; i < t; i++) {
      const start = Math.max(cols.start, Math.floor((i * nCols) / t));
      const end = Math.min(cols.end, Math.floor(((i + 1) * nCols) / t));
      const args = [
        ptr(dw),
        ptr(dBias),
        ptr(b.rows),
        b.nRows,
        ptr(b.indptr),
        ptr(b.indices),
        ptr(b.values),
        ptr(dOut),
        h,
      ];
      calls.push({
        fn: "sparseAffineBackward",
        args: [...args, start, end, i === 0 && cols.withBias ? 1 : 0],
      });
    }
    this.all(calls);
  }
  softmaxCrossEntropy(dz: Float32Array, z: Float32Array, b: RowBatch, n: number, scale: number): number {
    const t = b.nRows * n >= SPLIT_MIN && b.nRows > 1 ? this.threads : 1;
    const share = Math.ceil(b.nRows / t);
    const calls: KernelCall[] = [];
    for (let k = 0; k < t; k++) {
      const r0 = Math.min(b.nRows, k * share);
      const rows = Math.min(b.nRows, r0 + share) - r0;
      calls.push({
        fn: "softmaxCrossEntropy",
        args: [
          ptr(dz) + 4 * r0 * n,
          ptr(z) + 4 * r0 * n,
          ptr(b.rows) + 4 * r0,
          rows,
          ptr(b.indptr),
          ptr(b.indices),
          n,
          scale,
        ],
      });
    }
    return Array.from(this.all(calls)).reduce((a, x) => a + x, 0);
  }
  gemmAccumulate(
    out: Float32Array,
    m: Float32Array,
    x: Float32Array,
    rows: number,
    inner: number,
    cols: number,
    ldOut: number,
    ldm: number,
    ldx: number,
    alpha: number,
  ): void {
    const t = rows * inner * cols >= SPLIT_MIN && rows >= 8 ? this.threads : 1;
    const share = Math.ceil(rows / t / 4) * 4;
    const [po, pm, px] = [ptr(out), ptr(m), ptr(x)];
    // Each thread packs blocks of x into a panel of its own (see the kernel).
    this.panels ??= Array.from({ length: this.threads }, () => this.arena.f32(GEMM_PANEL));
    const calls: KernelCall[] = [];
    for (let k = 0; k < t; k++) {
      const r0 = Math.min(rows, k * share);
      const n = Math.min(rows, r0 + share) - r0;
      calls.push({
        fn: "gemmAccumulate",
        args: [
          ...[po + 4 * r0 * ldOut, pm + 4 * r0 * ldm, px, n, inner, cols, ldOut, ldm, ldx, alpha],
          ptr(this.panels[k]),
        ],
      });
    }
    this.all(calls);
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
    const shares = this.splitRows(b, h);
    const calls: KernelCall[] = [];
    for (let i = 0; i + 1 < shares.length; i++) {
      const [s0, s1] = [shares[i], shares[i + 1]];
      calls.push({
        fn: "sparseOutput",
        args: [
          ptr(pred) + 4 * s0.entry,
          ptr(b.rows) + 4 * s0.row,
          s1.row - s0.row,
          ptr(b.indptr),
          ptr(b.indices),
          ptr(hidden) + 4 * s0.row * h,
          ptr(v),
          ptr(bias),
          h,
        ],
      });
    }
    this.all(calls);
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
    cols: ColumnRange = ALL_COLUMNS,
  ): void {
    const t = this.splitRows(b, h).length - 1;
    const nCols = dBias.length;
    const size = b.nRows * h;
    // Each thread sums its own columns' share of dHidden; thread 0 writes dHidden itself, the others
    // scratch buffers that are added in afterwards.
    for (let i = 1; i < t; i++)
      if (!this.scratch[i] || this.scratch[i].length < size) this.scratch[i] = this.arena.f32(size);
    const calls: KernelCall[] = [];
    for (let i = 0; i < t; i++) {
      const start = Math.max(cols.start, Math.floor((i * nCols) / t));
      const end = Math.min(cols.end, Math.floor(((i + 1) * nCols) / t));
      const target = i === 0 ? dHidden : this.scratch[i];
      calls.push({
        fn: "sparseOutputBackward",
        args: [
          ...[
            ptr(dv),
            ptr(dBias),
            ptr(target),
            ptr(b.rows),
            b.nRows,
            ptr(b.indptr),
            ptr(b.indices),
            ptr(dPred),
          ],
          ...[ptr(hidden), ptr(v), h, start, end],
        ],
      });
    }
    this.all(calls);
    for (let i = 1; i < t; i++) this.addScaled(dHidden, this.scratch[i], 1, size);
  }
  squaredError(dPred: Float32Array, pred: Float32Array, b: RowBatch, scale: number): number {
    const shares = this.splitRows(b, 8);
    const calls: KernelCall[] = [];
    for (let i = 0; i + 1 < shares.length; i++) {
      const [s0, s1] = [shares[i], shares[i + 1]];
      calls.push({
        fn: "squaredError",
        args: [
          ptr(dPred) + 4 * s0.entry,
          ptr(pred) + 4 * s0.entry,
          ptr(b.rows) + 4 * s0.row,
          s1.row - s0.row,
          ptr(b.indptr),
          ptr(b.values),
          scale,
        ],
      });
    }
    const results = this.all(calls);
    let sum = 0;
    for (let i = 0; i < calls.length; i++) sum += results[i];
    return sum;
  }
  activate(x: Float32Array, n: number, kind: Activation): void {
    const p = ptr(x);
    this.elementShares(n, (s, c) => ({ fn: "activate", args: [p + 4 * s, c, ACTIVATIONS[kind]] }));
  }
  activateBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, n: number, kind: Activation): void {
    const [a, b, c] = [ptr(dx), ptr(dy), ptr(y)];
    this.elementShares(n, (s, k) => ({
      fn: "activateBackward",
      args: [a + 4 * s, b + 4 * s, c + 4 * s, k, ACTIVATIONS[kind]],
    }));
  }
  addScaled(y: Float32Array, x: Float32Array, a: number, n: number): void {
    const [yp, xp] = [ptr(y), ptr(x)];
    this.elementShares(n, (s, c) => ({ fn: "addScaled", args: [yp + 4 * s, xp + 4 * s, a, c] }));
  }
  addRowSums(y: Float32Array, x: Float32Array, nRows: number, n: number): void {
    const [yp, xp] = [ptr(y), ptr(x)];
    // Threads take disjoint column ranges of every row.
    const t = n * nRows >= SPLIT_MIN ? this.threads : 1;
    const share = Math.ceil(n / t / 4) * 4;
    const calls: KernelCall[] = [];
    for (let s = 0; s < n; s += share) {
      calls.push({ fn: "addRowSums", args: [yp + 4 * s, xp + 4 * s, nRows, Math.min(share, n - s), n] });
    }
    this.all(calls);
  }
  multiply(x: Float32Array, m: Float32Array, n: number): void {
    const [xp, mp] = [ptr(x), ptr(m)];
    this.elementShares(n, (s, c) => ({ fn: "multiply", args: [xp + 4 * s, mp + 4 * s, c] }));
  }
  /** Shares of a column batch's columns with about equal entries, one per thread when the work is large. */
  private columnShares(c: ColumnBatch, h: number): number[] {
    const total = c.start[c.nUnique];
    const t = total * h >= SPLIT_MIN ? this.threads : 1;
    const bounds = [0];
    for (let u = 0; bounds.length < t && u < c.nUnique; u++) {
      if (c.start[u + 1] >= (total * bounds.length) / t) bounds.push(u + 1);
    }
    while (bounds.length < t) bounds.push(c.nUnique);
    bounds.push(c.nUnique);
    return bounds;
  }

  /** A [size] scratch buffer per extra thread, zeroed. */
  private scratchFor(shares: number, size: number): Float32Array[] {
    const out: Float32Array[] = [];
    for (let i = 1; i < shares; i++) {
      if (!this.scratch[i] || this.scratch[i].length < size) this.scratch[i] = this.arena.f32(size);
      const buf = this.scratch[i].subarray(0, size);
      this.x.fill(ptr(buf), size, 0);
      out.push(buf);
    }
    return out;
  }

  private columnArgs(c: ColumnBatch): number[] {
    return [ptr(c.cols), ptr(c.start), ptr(c.rowOf)];
  }

  encodeColumns(out: Float32Array, c: ColumnBatch, w: Float32Array, h: number, nRows: number): void {
    const bounds = this.columnShares(c, h);
    const size = nRows * h;
    const partial = this.scratchFor(bounds.length - 1, size);
    const calls: KernelCall[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const target = i === 0 ? out : partial[i - 1];
      calls.push({
        fn: "encodeColumns",
        args: [ptr(target), ...this.columnArgs(c), ptr(c.values), bounds[i], bounds[i + 1], ptr(w), h],
      });
    }
    this.all(calls);
    for (const p of partial) this.addScaled(out, p, 1, size);
  }
  encodeColumnsBackward(dw: Float32Array, c: ColumnBatch, dOut: Float32Array, h: number): void {
    const bounds = this.columnShares(c, h);
    const calls: KernelCall[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      calls.push({
        fn: "encodeColumnsBackward",
        args: [ptr(dw), ...this.columnArgs(c), ptr(c.values), bounds[i], bounds[i + 1], ptr(dOut), h],
      });
    }
    this.all(calls);
  }
  decodeColumnsLoss(
    pred: Float32Array,
    dPred: Float32Array,
    dv: Float32Array,
    dBias: Float32Array,
    dHidden: Float32Array,
    c: ColumnBatch,
    hidden: Float32Array,
    v: Float32Array,
    bias: Float32Array,
    h: number,
    nRows: number,
    scale: number,
    outputActivation: "identity" | "sigmoid",
  ): number {
    const bounds = this.columnShares(c, h);
    const size = nRows * h;
    this.x.fill(ptr(dHidden), size, 0);
    const partial = this.scratchFor(bounds.length - 1, size);
    const calls: KernelCall[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const target = i === 0 ? dHidden : partial[i - 1];
      calls.push({
        fn: "decodeColumnsLoss",
        args: [
          ...[
            ptr(pred),
            ptr(dPred),
            ptr(dv),
            ptr(dBias),
            ptr(target),
            ...this.columnArgs(c),
            ptr(c.qOf),
            ptr(c.values),
          ],
          ...[
            bounds[i],
            bounds[i + 1],
            ptr(hidden),
            ptr(v),
            ptr(bias),
            h,
            scale,
            ACTIVATIONS[outputActivation],
          ],
        ],
      });
    }
    const results = this.all(calls);
    // Sum before the reduction below: the pool reuses its results array.
    let sse = 0;
    for (let i = 0; i < calls.length; i++) sse += results[i];
    for (const p of partial) this.addScaled(dHidden, p, 1, size);
    return sse;
  }
  /** Row ranges [start, end) of about equal size, one per thread when `work` is large. */
  private rowShares(rows: number, work: number): [number, number][] {
    const t = Math.min(rows, work >= SPLIT_MIN ? this.threads : 1);
    const share = Math.ceil(rows / Math.max(1, t));
    const out: [number, number][] = [];
    for (let s = 0; s < rows; s += share) out.push([s, Math.min(rows, s + share)]);
    return out;
  }
  localKernel(
    wEff: Float32Array,
    k: Float32Array,
    w: Float32Array,
    a: Float32Array,
    bT: Float32Array,
    rows: number,
    cols: number,
    d: number,
  ): number {
    const calls = this.rowShares(rows, rows * cols * d).map(([s, e]): KernelCall => {
      const o = 4 * s * cols;
      return {
        fn: "localKernel",
        args: [ptr(wEff) + o, ptr(k) + o, ptr(w) + o, ptr(a) + 4 * s * d, ptr(bT), e - s, cols, d],
      };
    });
    const results = this.all(calls);
    let count = 0;
    for (let i = 0; i < calls.length; i++) count += results[i];
    return count;
  }
  localKernelBackward(
    gW: Float32Array,
    gA: Float32Array,
    gBT: Float32Array,
    gEff: Float32Array,
    w: Float32Array,
    k: Float32Array,
    a: Float32Array,
    bT: Float32Array,
    rows: number,
    cols: number,
    d: number,
    lambda2: number,
    lambdaS: number,
  ): number {
    const shares = this.rowShares(rows, rows * cols * d);
    // Each extra thread sums its rows' column-embedding gradients apart; they are added at the end.
    const partial = this.scratchFor(shares.length, d * cols);
    const calls = shares.map(([s, e], i): KernelCall => {
      const o = 4 * s * cols;
      const target = i === 0 ? gBT : partial[i - 1];
      const at = [ptr(gW) + o, ptr(gA) + 4 * s * d, ptr(target), ptr(gEff) + o, ptr(w) + o, ptr(k) + o];
      return {
        fn: "localKernelBackward",
        args: [...at, ptr(a) + 4 * s * d, ptr(bT), e - s, cols, d, lambda2, lambdaS],
      };
    });
    const results = this.all(calls);
    let penalty = 0;
    for (let i = 0; i < calls.length; i++) penalty += results[i];
    for (const p of partial) this.addScaled(gBT, p, 1, d * cols);
    return penalty;
  }
  /** A reduction over shares of n elements: their results added in share order (one answer a thread count). */
  private sumShares(n: number, call: (start: number, count: number) => KernelCall): number {
    const parts = this.elementShares(n, call);
    let sum = 0;
    for (let i = 0; i < parts.length; i++) sum += parts[i];
    return sum;
  }
  dotProduct(x: Float32Array, y: Float32Array, n: number): number {
    const [xp, yp] = [ptr(x), ptr(y)];
    return this.sumShares(n, (s, c) => ({ fn: "dotProduct", args: [xp + 4 * s, yp + 4 * s, c] }));
  }
  sumSquares(x: Float32Array, n: number): number {
    return this.dotProduct(x, x, n);
  }
  sumAbs(x: Float32Array, n: number): number {
    const p = ptr(x);
    return this.sumShares(n, (s, c) => ({ fn: "sumAbs", args: [p + 4 * s, c] }));
  }
  maxAbs(x: Float32Array, n: number): number {
    const p = ptr(x);
    const parts = this.elementShares(n, (s, c) => ({ fn: "maxAbs", args: [p + 4 * s, c] }));
    return Math.max(0, ...Array.from(parts));
  }
}

/**
 * A fresh WebAssembly backend of one build: its own shared memory, arena and kernel instance, and with
 * threads > 1 a pool of workers on the same memory.
 */
export function createWasmBackend(threads = 1, variant: WasmVariant = "simd"): Backend {
  const module = kernelModule(variant);
  const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
  const instance = new WebAssembly.Instance(module, { env: { memory, abort: wasmAbort } });
  const exports = instance.exports as unknown as Exports;
  const pool = threads > 1 ? new KernelPool(threads, module, memory, exports) : null;
  const arena = new WasmArena(memory);
  return {
    kernels: new WasmKernels(`wasm-${variant}`, exports, pool, arena),
    arena,
    threads,
    close: () => pool?.close(),
  };
}

function wasmAbort(): never {
  throw new Error("WebAssembly kernel aborted");
}
