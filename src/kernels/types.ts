import type { KernelProfile } from "./profile.js";

/** A float array a kernel reads or writes: float32 in training, float64 in gradient checks. */
export type FloatArray = Float32Array | Float64Array;

/** Activation functions, with the codes the WebAssembly kernels use. */
export const ACTIVATIONS = { identity: 0, sigmoid: 1, tanh: 2, relu: 3, elu: 4, selu: 5 } as const;
/** An activation function's name. */
export type Activation = keyof typeof ACTIVATIONS;

/** Hyper-parameters of one optimizer step, PyTorch's names and semantics. */
export interface RmspropStep {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  /** Zero the gradient as it is read (optimizer.zero_grad() fused into the step). */
  zeroGrad?: boolean;
}

/** Hyper-parameters of one Adam step, PyTorch's names and semantics. */
export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for the bias corrections. */
  step: number;
  zeroGrad?: boolean;
}

/** Hyper-parameters of one SGD step, PyTorch's names and semantics. */
export interface SgdStep {
  lr: number;
  momentum: number;
  weightDecay: number;
  /** True on the first step, when PyTorch sets the momentum buffer to the gradient itself. */
  first: boolean;
  zeroGrad?: boolean;
}

/**
 * A CSR matrix selected by rows. `rows[0..nRows)` are row ids; the observed entries of those rows, taken in
 * that order, form the "batch order" used by the sparse output kernels.
 */
export interface RowBatch {
  rows: Int32Array;
  nRows: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/**
 * A mini-batch's observed entries regrouped by column: column cols[u] (u < nUnique) has entries e in
 * [start[u], start[u+1]), each with its batch row rowOf[e], its position qOf[e] in batch order (the order of
 * RowBatch entries) and its value values[e]. Lets the kernels read each weight row once per batch.
 */
export interface ColumnBatch {
  nUnique: number;
  cols: Int32Array;
  start: Int32Array;
  rowOf: Int32Array;
  qOf: Int32Array;
  values: Float32Array;
}

/** Columns a backward kernel updates, so that threads can own disjoint ranges; the bias once, by one. */
export interface ColumnRange {
  start: number;
  end: number;
  withBias: boolean;
}

/** Every column, the bias included: the single-thread case. */
export const ALL_COLUMNS: ColumnRange = { start: 0, end: 0x7fffffff, withBias: true };

/**
 * The compute kernels. Every kernel is a pure function on typed arrays: output first, explicit sizes, no
 * allocation. Weight layouts: `sparseAffine`'s W is [nInputs][h] (row per input column, contiguous in h);
 * dense layers use PyTorch's [nOut][nIn]; the sparse output layer's V is [nOutputs][h].
 */
export interface Kernels {
  /** "wasm-relaxed-simd", "wasm-simd" or "reference" (plain TypeScript). */
  readonly name: string;
  fill(out: Float32Array, n: number, value: number): void;
  /** Zeroes entries below float32's smallest normal (subnormals are slow on x86; see the WASM kernel). */
  flushSubnormals(x: Float32Array, n: number): void;
  rmspropStep(p: Float32Array, g: Float32Array, v: Float32Array, n: number, hp: RmspropStep): void;
  adamStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number, hp: AdamStep): void;
  sgdStep(p: Float32Array, g: Float32Array, buf: Float32Array, n: number, hp: SgdStep): void;
  /** out[b,:] = bias + sum over observed k of row b: values[k] * W[indices[k], :]. */
  sparseAffine(out: Float32Array, batch: RowBatch, w: Float32Array, bias: Float32Array, h: number): void;
  /** dW[indices[k], :] += values[k] * dOut[b,:]; dBias += dOut[b,:] (accumulates; `cols` restricts). */
  sparseAffineBackward(
    dw: Float32Array,
    dBias: Float32Array,
    batch: RowBatch,
    dOut: Float32Array,
    h: number,
    cols?: ColumnRange,
  ): void;
  /**
   * Multinomial log-likelihood of each row's logits against its positives (Mult-VAE's loss), and its
   * gradient: row b of `z` ([nRows][n]) has the positives of CSR row `b.rows[b]`; loss_b = sum over them of
   * (logsumexp(z_b) - z_bi), dz_bi = scale * (softmax(z_b)_i * n_b - [i positive]). Returns scale * the sum
   * of loss_b. `dz` may be `z`. Rows are split across threads.
   */
  softmaxCrossEntropy(dz: Float32Array, z: Float32Array, b: RowBatch, n: number, scale: number): number;
  /**
   * Dense multiply-accumulate: out[i][j] += alpha * sum_t m[i][t] * x[t][j] for i < rows, t < inner,
   * j < cols; every matrix row-major with its own leading dimension (floats per row). The rows of `out` are
   * split across threads.
   */
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
  ): void;
  /** out[b,o] = bias[o] + sum_i inp[b,i] * W[o,i]. */
  denseAffine(
    out: Float32Array,
    inp: Float32Array,
    w: Float32Array,
    bias: Float32Array,
    nRows: number,
    nIn: number,
    nOut: number,
  ): void;
  /** dW += dOut^T inp; dBias += column sums of dOut; dInp = dOut W (overwritten; skipped when null). */
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
  ): void;
  /** pred[q] = bias[j] + hidden[b,:] . V[j,:] for the q-th observed entry (batch order), j its column. */
  sparseOutput(
    pred: Float32Array,
    batch: RowBatch,
    hidden: Float32Array,
    v: Float32Array,
    bias: Float32Array,
    h: number,
  ): void;
  /**
   * dV[j,:] += dPred[q] hidden[b,:]; dBias[j] += dPred[q]; dHidden[b,:] = sum_q dPred[q] V[j,:] (overwritten),
   * over the columns in `cols` only.
   */
  sparseOutputBackward(
    dv: Float32Array,
    dBias: Float32Array,
    dHidden: Float32Array,
    batch: RowBatch,
    dPred: Float32Array,
    hidden: Float32Array,
    v: Float32Array,
    h: number,
    cols?: ColumnRange,
  ): void;
  /** out[rowOf[e], :] += values[e] * W[cols[u], :] over a column batch; out must hold the bias first. */
  encodeColumns(out: Float32Array, batch: ColumnBatch, w: Float32Array, h: number, nRows: number): void;
  /** dW[cols[u], :] += values[e] * dOut[rowOf[e], :] over a column batch. */
  encodeColumnsBackward(dw: Float32Array, batch: ColumnBatch, dOut: Float32Array, h: number): void;
  /**
   * Decoder forward, squared-error loss (times scale) and decoder backward in one pass per output column,
   * for an identity or sigmoid output: writes pred and dPred in batch order, adds to dV and dBias, overwrites
   * dHidden [nRows][h]; returns the sum of squared errors.
   */
  decodeColumnsLoss(
    pred: Float32Array,
    dPred: Float32Array,
    dv: Float32Array,
    dBias: Float32Array,
    dHidden: Float32Array,
    batch: ColumnBatch,
    hidden: Float32Array,
    v: Float32Array,
    bias: Float32Array,
    h: number,
    nRows: number,
    scale: number,
    outputActivation: "identity" | "sigmoid",
  ): number;
  /** dPred[q] = 2 * scale * (pred[q] - values[k]); returns the sum of squared errors. */
  squaredError(dPred: Float32Array, pred: Float32Array, batch: RowBatch, scale: number): number;
  /** x = f(x) in place (SELU with PyTorch's constants). */
  activate(x: Float32Array, n: number, kind: Activation): void;
  /** dx = dy * f'(x), computed from the output y = f(x); dx may be dy. */
  activateBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, n: number, kind: Activation): void;
  /** y += a * x. */
  addScaled(y: Float32Array, x: Float32Array, a: number, n: number): void;
  /** y[j] += sum over the rows b < nRows of x[b][j], x being [nRows][n] (a bias gradient from deltas). */
  addRowSums(y: Float32Array, x: Float32Array, nRows: number, n: number): void;
  /** x *= m element-wise (dropout masks). */
  multiply(x: Float32Array, m: Float32Array, n: number): void;
  /**
   * GLocal-K's local kernel over a weight matrix w [rows][cols]: k[r][c] = max(0, 1 - |a_r - b_c|^2) with
   * row embeddings a [rows][d] and column embeddings bT [d][cols] (stored dimension by dimension), and
   * wEff = w * k. Returns how many k are above 0 (the kernel's density). Rows are split across threads.
   */
  localKernel(
    wEff: Float32Array,
    k: Float32Array,
    w: Float32Array,
    a: Float32Array,
    bT: Float32Array,
    rows: number,
    cols: number,
    d: number,
  ): number;
  /**
   * localKernel's backward pass with the penalties lambda2/2 |w|^2 + lambdaS/2 |k|^2 (returned), from
   * gEff = dLoss/dwEff: writes gW = gEff * k + lambda2 * w, gA[r] = -2 sum_c gk (a_r - b_c) and
   * gBT[.][c] = 2 sum_r gk (a_r - b_c), where gk = gEff * w + lambdaS * k where k > 0 and 0 elsewhere (the
   * kernel's flat part); overwrites gEff with gk.
   */
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
  ): number;
  /** Dot product (accumulated in double precision). */
  dotProduct(x: Float32Array, y: Float32Array, n: number): number;
  /** Sum of squares (accumulated in double precision). */
  sumSquares(x: Float32Array, n: number): number;
  /** Sum of absolute values (accumulated in double precision). */
  sumAbs(x: Float32Array, n: number): number;
  /** Largest absolute value: 0 for n = 0, NaN when any value is NaN (so one call also checks finiteness). */
  maxAbs(x: Float32Array, n: number): number;
}

/** Allocates the arrays that kernels of one backend can work on. */
export interface Arena {
  f32(n: number): Float32Array;
  i32(n: number): Int32Array;
}

/** A kernel implementation with the memory it works on. */
export interface Backend {
  kernels: Kernels;
  arena: Arena;
  /** Threads the kernels use (1 = the calling thread only). */
  threads: number;
  /** Releases the worker threads, if any. */
  close(): void;
  /** Set on a profiled backend (profiledBackend): the time of each kernel, and of the work labelled around them. */
  profile?: KernelProfile;
}
