import { Rng } from "../data/random.js";
import type { Csr } from "../data/ratings.js";
import { ColumnBatcher, sharesEntries } from "../kernels/column-batch.js";
import { DenseLayer, transposeInto } from "../kernels/dense-layer.js";
import { type Activation, type Backend, type ColumnBatch, type RowBatch, timed } from "../kernels/index.js";
import { linearInit } from "./init.js";

/** Batches of at least this many rows take the column-grouped kernels (see setColumnBatchMin). */
let columnBatchMin = 8;

/**
 * Sets how many rows a batch needs to take the column-grouped kernels, and returns the previous value. For
 * tests, which check both paths on small problems; the shipped value is 8.
 */
export function setColumnBatchMin(rows: number): number {
  const previous = columnBatchMin;
  columnBatchMin = rows;
  return previous;
}

/**
 * Whether passes over n rows regroup their entries by column, so that each weight row is read once per
 * batch (the column-grouped decoder implements these output activations).
 */
function groupsByColumn(n: number, output: Activation): output is "identity" | "sigmoid" {
  return n >= columnBatchMin && (output === "identity" || output === "sigmoid");
}

/** A batch's target entries and input entries grouped by column (one object when they are the same). */
export interface BatchColumns {
  target: ColumnBatch;
  input: ColumnBatch;
}

/** Layers of an autoencoder over vectors of `nInputs` ratings. */
export interface AutoencoderShape {
  nInputs: number;
  /** Hidden layer sizes: [20, 10, 20] for the tutorial's SAE, [500] for AutoRec. */
  hidden: number[];
  /** Activation after every hidden layer. */
  activation: Activation;
  /** Activation of the output layer (identity for AutoRec's best setting and the SAE). */
  outputActivation: Activation;
  /**
   * A constrained decoder (Kuchaiev & Ginsburg): each decoder layer's weights are the transpose of its
   * mirror encoder layer's, so only the encoder's are learned. Needs symmetric hidden sizes.
   */
  tied?: boolean;
}

/** One named parameter tensor, with PyTorch's name, as a view into the flat parameters. */
export interface ParameterTensor {
  name: string;
  /** Shape as aerec stores it. */
  shape: number[];
  /** True when aerec stores the transpose of PyTorch's [out][in] layout (the sparse input layer). */
  transposed: boolean;
  /** A weight matrix (L2 regularisation applies) rather than a bias. */
  isWeight: boolean;
  data: Float32Array;
}

/**
 * A fully connected autoencoder that is sparse where it matters: the input layer reads only a row's
 * observed ratings (CSR times dense), and the output layer is evaluated only where a rating is asked for.
 * Hidden layers are dense. All parameters live in one flat array so that an optimizer step is one kernel
 * call. The tutorial's SAE is [20, 10, 20] with sigmoid; AutoRec is [k] with sigmoid and identity output.
 *
 * Layout: input weights [nInputs][h0] (PyTorch's fc1.weight transposed, so each input's weights are
 * contiguous), then (weight [out][in], bias) for each later layer as PyTorch stores them.
 */
export class AutoencoderNetwork {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly tensors: ParameterTensor[];
  readonly gradTensors: Float32Array[];
  /** Layer widths: nInputs, hidden..., nInputs. */
  readonly sizes: number[];
  private acts: Float32Array[] = [];
  private deltas: Float32Array[] = [];
  private pred: Float32Array = new Float32Array(0);
  private dPred: Float32Array = new Float32Array(0);
  private rows: Int32Array = new Int32Array(0);
  private dropMask: Float32Array = new Float32Array(0);
  private denseOutputs?: Float32Array;
  private zeroBias?: Float32Array;
  private readonly dense: DenseLayer;
  private targetColumns?: ColumnBatcher;
  private inputColumns?: ColumnBatcher;
  /** The hidden layer the last encode() applied dropout to, or -1. */
  private maskedLayer = -1;

  constructor(
    readonly shape: AutoencoderShape,
    readonly backend: Backend,
  ) {
    const { nInputs, hidden } = shape;
    if (hidden.length === 0 || hidden.some((h) => !(Number.isInteger(h) && h > 0))) {
      throw new Error(`hidden layer sizes must be positive integers, got [${hidden.join(", ")}]`);
    }
    if (shape.tied && hidden.join(",") !== [...hidden].reverse().join(",")) {
      throw new Error(`a tied decoder needs symmetric hidden sizes, got [${hidden.join(", ")}]`);
    }
    this.sizes = [nInputs, ...hidden, nInputs];
    this.dense = new DenseLayer(backend);
    const specs: Omit<ParameterTensor, "data">[] = [];
    for (let l = 0; l + 1 < this.sizes.length; l++) {
      const [nIn, nOut] = [this.sizes[l], this.sizes[l + 1]];
      const name = `fc${l + 1}`;
      specs.push({
        name: `${name}.weight`,
        shape: l === 0 ? [nIn, nOut] : [nOut, nIn],
        transposed: l === 0,
        isWeight: true,
      });
      specs.push({ name: `${name}.bias`, shape: [nOut], transposed: false, isWeight: false });
    }
    const total = specs.reduce((n, s) => n + s.shape[0] * (s.shape[1] ?? 1), 0);
    this.params = backend.arena.f32(total);
    this.grads = backend.arena.f32(total);
    let at = 0;
    this.tensors = [];
    this.gradTensors = [];
    for (const spec of specs) {
      const n = spec.shape[0] * (spec.shape[1] ?? 1);
      this.tensors.push({ ...spec, data: this.params.subarray(at, at + n) });
      this.gradTensors.push(this.grads.subarray(at, at + n));
      at += n;
    }
  }

  /** Number of layers (weight, bias pairs). */
  get nLayers(): number {
    return this.sizes.length - 1;
  }

  /** Index of the code (middle hidden) layer's activations. */
  get codeLayer(): number {
    return Math.floor((this.nLayers - 1) / 2);
  }

  /** PyTorch's default initialisation from a seed. */
  initialize(seed: number): void {
    const rng = new Rng(seed);
    for (let l = 0; l < this.nLayers; l++) {
      linearInit(this.tensors[2 * l].data, this.sizes[l], rng);
      linearInit(this.tensors[2 * l + 1].data, this.sizes[l], rng);
    }
  }

  /** Tied (encoder layer, mirror decoder layer) pairs; empty unless the shape asks for a tied decoder. */
  private tiedPairs(): [number, number][] {
    if (!this.shape.tied) return [];
    const pairs: [number, number][] = [];
    for (let l = 0; l < this.nLayers - 1 - l; l++) pairs.push([l, this.nLayers - 1 - l]);
    return pairs;
  }

  /** True for a tied decoder layer's weight tensor (index into `tensors`), which is not learned itself. */
  isTiedCopy(tensor: number): boolean {
    return this.tiedPairs().some(([, dec]) => 2 * dec === tensor);
  }

  /**
   * The one hook of a tied decoder, run at the start of every forward pass: sets each tied decoder layer's
   * weights from its encoder layer, so that whatever changed the parameters (an optimizer step, L-BFGS, a
   * file) the decoder follows; also run before the tensors are read out. The outer pair needs no transpose: aerec stores fc1.weight as [nInputs][h],
   * which is exactly the output layer's [nInputs][h] layout.
   */
  tieDecoder(): void {
    for (const [enc, dec] of this.tiedPairs()) {
      const [from, to] = [this.tensors[2 * enc], this.tensors[2 * dec]];
      if (enc === 0) to.data.set(from.data);
      else transposeInto(to.data, from.data, from.shape[0], from.shape[1]);
    }
  }

  /**
   * Moves every tied decoder layer's gradient onto its encoder layer (transposed back) and zeroes it, so
   * that the optimizer learns the shared weights once (run at the end of every backward pass).
   */
  private foldTiedGradients(): void {
    const { kernels } = this.backend;
    for (const [enc, dec] of this.tiedPairs()) {
      const [ge, gd] = [this.gradTensors[2 * enc], this.gradTensors[2 * dec]];
      if (enc === 0) kernels.addScaled(ge, gd, 1, ge.length);
      else {
        const [rows, cols] = this.tensors[2 * enc].shape;
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) ge[r * cols + c] += gd[c * rows + r];
      }
      kernels.fill(gd, gd.length, 0);
    }
  }

  /** Sizes the work buffers for up to `nRows` rows and `nnz` output entries per call. */
  reserve(nRows: number, nnz: number): void {
    const { arena } = this.backend;
    if (nRows > this.rows.length) {
      this.rows = arena.i32(nRows);
      this.acts = this.sizes.slice(1, -1).map((h) => arena.f32(nRows * h));
      this.deltas = this.sizes.slice(1, -1).map((h) => arena.f32(nRows * h));
      this.dropMask = arena.f32(nRows * this.sizes[this.codeLayer + 1]);
    }
    if (nnz > this.pred.length) {
      this.pred = arena.f32(nnz);
      this.dPred = arena.f32(nnz);
    }
  }

  /** A CSR copied into this network's memory, so the kernels can read it. */
  adopt(csr: Csr): Csr {
    const { arena } = this.backend;
    const indptr = arena.i32(csr.indptr.length);
    const indices = arena.i32(csr.indices.length);
    const values = arena.f32(csr.values.length);
    indptr.set(csr.indptr);
    indices.set(csr.indices);
    values.set(csr.values);
    return { ...csr, indptr, indices, values };
  }

  private batch(csr: Csr, rows: ArrayLike<number>): RowBatch {
    this.reserve(rows.length, 0);
    for (let b = 0; b < rows.length; b++) this.rows[b] = rows[b];
    return {
      rows: this.rows,
      nRows: rows.length,
      indptr: csr.indptr,
      indices: csr.indices,
      values: csr.values,
    };
  }

  /**
   * Runs the hidden layers for `rows` of `input` (adopted) and returns the last hidden layer. With a
   * `dropout` of p > 0 and an `rng`, the code layer's units are zeroed with probability p and the rest scaled
   * by 1/(1-p) (training only).
   */
  encode(input: Csr, rows: ArrayLike<number>, dropout = 0, rng?: Rng, columns?: ColumnBatch): Float32Array {
    const { kernels } = this.backend;
    const { activation } = this.shape;
    const n = rows.length;
    const h = this.sizes[1];
    this.tieDecoder();
    if (columns) {
      const bias = this.tensors[1].data;
      for (let r = 0; r < n; r++) this.acts[0].set(bias, r * h);
      kernels.encodeColumns(this.acts[0], columns, this.tensors[0].data, h, n);
    } else {
      const batch = this.batch(input, rows);
      kernels.sparseAffine(this.acts[0], batch, this.tensors[0].data, this.tensors[1].data, h);
    }
    kernels.activate(this.acts[0], n * h, activation);
    for (let l = 1; l < this.nLayers - 1; l++) {
      if (l - 1 === this.codeLayer && dropout > 0 && rng) this.dropout(l - 1, n, dropout, rng);
      const [w, bias] = [this.tensors[2 * l].data, this.tensors[2 * l + 1].data];
      this.dense.forward(this.acts[l], this.acts[l - 1], w, bias, n, this.sizes[l], this.sizes[l + 1]);
      kernels.activate(this.acts[l], n * this.sizes[l + 1], activation);
    }
    if (this.codeLayer === this.nLayers - 2 && dropout > 0 && rng)
      this.dropout(this.codeLayer, n, dropout, rng);
    return this.acts[this.nLayers - 2];
  }

  private dropout(layer: number, n: number, p: number, rng: Rng): void {
    const size = n * this.sizes[layer + 1];
    const keep = 1 / (1 - p);
    for (let i = 0; i < size; i++) this.dropMask[i] = rng.float() < p ? 0 : keep;
    this.backend.kernels.multiply(this.acts[layer], this.dropMask, size);
    this.maskedLayer = layer;
  }

  /**
   * Outputs for the same `rows` (after `encode`) at the entries `output` (adopted) holds for them, in batch
   * order. The returned view is overwritten by the next call.
   */
  decodeAt(output: Csr, rows: ArrayLike<number>, nnz: number): Float32Array {
    this.reserve(rows.length, nnz);
    const last = this.nLayers - 1;
    const b = this.batch(output, rows);
    this.backend.kernels.sparseOutput(
      this.pred,
      b,
      this.acts[last - 1],
      this.tensors[2 * last].data,
      this.tensors[2 * last + 1].data,
      this.sizes[last],
    );
    this.backend.kernels.activate(this.pred, nnz, this.shape.outputActivation);
    return this.pred.subarray(0, nnz);
  }

  /**
   * Every output of the first `nRows` encoded rows (after `encode`), as a dense [nRows][nInputs] view that
   * the next call overwrites.
   */
  decodeDense(nRows: number): Float32Array {
    const last = this.nLayers - 1;
    const [w, bias] = [this.tensors[2 * last].data, this.tensors[2 * last + 1].data];
    const size = nRows * this.shape.nInputs;
    if (!this.denseOutputs || this.denseOutputs.length < size)
      this.denseOutputs = this.backend.arena.f32(size);
    const out = this.denseOutputs.subarray(0, size);
    this.backend.kernels.denseAffine(
      out,
      this.acts[last - 1],
      w,
      bias,
      nRows,
      this.sizes[last],
      this.shape.nInputs,
    );
    this.backend.kernels.activate(out, size, this.shape.outputActivation);
    return out;
  }

  /**
   * `rows` of `target` and of `input` grouped by column in memory of their own, for a batch that
   * accumulateGradients sees on every pass (its `columns` option); undefined when passes over this many rows
   * do not group by column.
   */
  keepColumns(target: Csr, rows: ArrayLike<number>, input = target): BatchColumns | undefined {
    if (!groupsByColumn(rows.length, this.shape.outputActivation)) return undefined;
    return timed(this.backend, "column grouping", () => this.groupByColumn(target, rows, input, rows, true));
  }

  /**
   * `rows` of `target` and `inputRows` of `input` grouped by column. An input with the targets' entries
   * (other values) shares their grouping; only a different set of entries (denoising) is grouped apart.
   */
  private groupByColumn(
    target: Csr,
    rows: ArrayLike<number>,
    input: Csr,
    inputRows: ArrayLike<number>,
    keep = false,
  ): BatchColumns {
    this.targetColumns ??= new ColumnBatcher(this.backend.arena, this.shape.nInputs);
    if (inputRows === rows && input === target) {
      const both = this.targetColumns.build(target, rows, keep);
      return { target: both, input: both };
    }
    if (inputRows === rows && sharesEntries(input, target)) {
      const [t, i] = this.targetColumns.buildPair(target, input, rows, keep);
      return { target: t, input: i };
    }
    this.inputColumns ??= new ColumnBatcher(this.backend.arena, this.shape.nInputs);
    return {
      target: this.targetColumns.build(target, rows, keep),
      input: this.inputColumns.build(input, inputRows, keep),
    };
  }

  /**
   * One forward and backward pass reconstructing `rows`' entries in `target` (adopted). The encoder reads
   * `input` rows `inputRows` (by default the same ratings; a corrupted copy for denoising). Adds the gradient
   * of scale * (sum of squared errors) to `grads` (which the caller zeroes, or not) and returns that sum.
   */
  accumulateGradients(
    target: Csr,
    rows: ArrayLike<number>,
    scale: number,
    options: {
      input?: Csr;
      inputRows?: ArrayLike<number>;
      dropout?: number;
      rng?: Rng;
      /** The batch already grouped by column (keepColumns), for batches seen repeatedly. */
      columns?: BatchColumns;
      /**
       * Receives d(scale * sum of squared errors)/d(input) at the entries `inputRows` of `input` hold, in
       * batch order (GLocal-K learns its global kernel through the input).
       */
      inputGradient?: Float32Array;
    } = {},
  ): number {
    const { kernels } = this.backend;
    const { outputActivation } = this.shape;
    const input = options.input ?? target;
    const inputRows = options.inputRows ?? rows;
    let nnz = 0;
    for (let b = 0; b < rows.length; b++) nnz += target.indptr[rows[b] + 1] - target.indptr[rows[b]];
    this.reserve(rows.length, nnz);
    this.maskedLayer = -1;
    const n = rows.length;
    const last = this.nLayers - 1;
    let sse: number;
    let inputColumns: ColumnBatch | undefined;
    if (groupsByColumn(n, outputActivation)) {
      const columns =
        options.columns ??
        timed(this.backend, "column grouping", () => this.groupByColumn(target, rows, input, inputRows));
      const targetColumns = columns.target;
      inputColumns = columns.input;
      this.encode(input, inputRows, options.dropout ?? 0, options.rng, inputColumns);
      sse = kernels.decodeColumnsLoss(
        this.pred,
        this.dPred,
        this.gradTensors[2 * last],
        this.gradTensors[2 * last + 1],
        this.deltas[last - 1],
        targetColumns,
        this.acts[last - 1],
        this.tensors[2 * last].data,
        this.tensors[2 * last + 1].data,
        this.sizes[last],
        n,
        scale,
        outputActivation,
      );
    } else {
      this.encode(input, inputRows, options.dropout ?? 0, options.rng);
      this.decodeAt(target, rows, nnz);
      const batch = this.batch(target, rows);
      sse = kernels.squaredError(this.dPred, this.pred, batch, scale);
      kernels.activateBackward(this.dPred, this.dPred, this.pred, nnz, outputActivation);
      kernels.sparseOutputBackward(
        this.gradTensors[2 * last],
        this.gradTensors[2 * last + 1],
        this.deltas[last - 1],
        batch,
        this.dPred,
        this.acts[last - 1],
        this.tensors[2 * last].data,
        this.sizes[last],
      );
    }
    this.backwardHidden(n, input, inputRows, inputColumns);
    if (options.inputGradient) this.inputGradientAt(options.inputGradient, input, inputRows);
    this.foldTiedGradients();
    return sse;
  }

  /**
   * Copies of the hidden layers' activations for the `n` rows encode() ran on last, into `saved` (allocated
   * when undefined), for restoreActivations to put back.
   */
  saveActivations(n: number, saved?: Float32Array[]): Float32Array[] {
    const copies = saved ?? this.sizes.slice(1, -1).map((h) => this.backend.arena.f32(n * h));
    for (let l = 0; l < copies.length; l++) copies[l].set(this.acts[l].subarray(0, n * this.sizes[l + 1]));
    return copies;
  }

  /** Puts back activations that saveActivations copied, as though encode() had run on those rows again. */
  restoreActivations(saved: Float32Array[]): void {
    for (let l = 0; l < saved.length; l++) this.acts[l].set(saved[l]);
  }

  /**
   * Adds the gradient of sum(dCode * last hidden layer) to `grads` for the `rows` of `input` that encode()
   * ran on last (a loss that reads the code, not the outputs).
   */
  backpropagateCode(dCode: Float32Array, input: Csr, rows: ArrayLike<number>): void {
    const n = rows.length;
    const last = this.nLayers - 1;
    this.deltas[last - 1].set(dCode.subarray(0, n * this.sizes[last]));
    this.backwardHidden(n, input, rows);
    this.foldTiedGradients();
  }

  /** The input's gradient at its entries from the first layer's deltas: out[q] = deltas0[b] . W1[j]. */
  private inputGradientAt(out: Float32Array, input: Csr, rows: ArrayLike<number>): void {
    const h = this.sizes[1];
    this.zeroBias ??= this.backend.arena.f32(this.shape.nInputs);
    const batch = this.batch(input, rows);
    this.backend.kernels.sparseOutput(out, batch, this.deltas[0], this.tensors[0].data, this.zeroBias, h);
  }

  /** Backward from deltas[last hidden] (the loss's gradient there) through every hidden layer into `grads`. */
  private backwardHidden(
    n: number,
    input: Csr,
    inputRows: ArrayLike<number>,
    inputColumns?: ColumnBatch,
  ): void {
    const { kernels } = this.backend;
    const last = this.nLayers - 1;
    for (let l = last - 1; l >= 1; l--) {
      this.throughActivation(l, n);
      this.dense.backward(
        this.gradTensors[2 * l],
        this.gradTensors[2 * l + 1],
        this.deltas[l - 1],
        this.deltas[l],
        this.acts[l - 1],
        this.tensors[2 * l].data,
        n,
        this.sizes[l],
        this.sizes[l + 1],
      );
    }
    this.throughActivation(0, n);
    const h = this.sizes[1];
    if (inputColumns) {
      kernels.encodeColumnsBackward(this.gradTensors[0], inputColumns, this.deltas[0], h);
      kernels.addRowSums(this.gradTensors[1], this.deltas[0], n, h);
    } else {
      const inputBatch = this.batch(input, inputRows);
      kernels.sparseAffineBackward(this.gradTensors[0], this.gradTensors[1], inputBatch, this.deltas[0], h);
    }
  }

  /** deltas[l] from d(loss)/d(output of layer l) to d(loss)/d(its pre-activation), through dropout too. */
  private throughActivation(l: number, n: number): void {
    const { kernels } = this.backend;
    const size = n * this.sizes[l + 1];
    if (l === this.maskedLayer) kernels.multiply(this.deltas[l], this.dropMask, size);
    // With dropout the stored activation is masked; the derivative needs the unmasked value, which is
    // recovered where the mask kept the unit (elsewhere the delta is already 0).
    if (l === this.maskedLayer) this.unmask(l, size);
    kernels.activateBackward(this.deltas[l], this.deltas[l], this.acts[l], size, this.shape.activation);
  }

  private unmask(l: number, size: number): void {
    const act = this.acts[l];
    for (let i = 0; i < size; i++) if (this.dropMask[i] !== 0) act[i] /= this.dropMask[i];
  }
}
