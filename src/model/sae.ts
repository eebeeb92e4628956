import { Rng } from "../data/random.js";
import type { Csr } from "../data/ratings.js";
import type { Backend, RowBatch } from "../kernels/index.js";
import { linearInit } from "./init.js";

/** Shape of a stacked autoencoder over a catalogue of `nItems` movies. */
export interface SaeShape {
  nItems: number;
  /** Hidden layer sizes, sigmoid after each; the tutorial's is [20, 10, 20]. */
  hidden: number[];
}

/** One named parameter tensor, with PyTorch's name and shape, as a view into the flat parameters. */
export interface ParameterTensor {
  name: string;
  /** Shape as aerec stores it. */
  shape: number[];
  /** True when aerec stores the transpose of PyTorch's [out][in] layout (the sparse input layer). */
  transposed: boolean;
  data: Float32Array;
}

/**
 * The tutorial's stacked autoencoder, sparse-aware: input is a user's ratings (only observed entries are
 * read), sigmoid hidden layers, a linear output layer evaluated only where a rating is asked for. All
 * parameters live in one flat array so that an optimizer step is one kernel call.
 *
 * Layout: input weights [nItems][h0] (PyTorch's fc1.weight transposed, so each movie's weights are
 * contiguous), then (weight [out][in], bias) for each layer as PyTorch stores them.
 */
export class SaeNetwork {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly tensors: ParameterTensor[];
  readonly sizes: number[];
  private readonly gradTensors: Float32Array[];
  private acts: Float32Array[] = [];
  private deltas: Float32Array[] = [];
  private pred: Float32Array = new Float32Array(0);
  private dPred: Float32Array = new Float32Array(0);
  private rows: Int32Array = new Int32Array(0);
  private allOutputs?: Float32Array;

  constructor(
    readonly shape: SaeShape,
    readonly backend: Backend,
  ) {
    const { nItems, hidden } = shape;
    if (hidden.length === 0 || hidden.some((h) => !(Number.isInteger(h) && h > 0))) {
      throw new Error(`hidden layer sizes must be positive integers, got [${hidden.join(", ")}]`);
    }
    this.sizes = [nItems, ...hidden, nItems];
    const specs: { name: string; shape: number[]; transposed: boolean }[] = [];
    for (let l = 0; l + 1 < this.sizes.length; l++) {
      const [nIn, nOut] = [this.sizes[l], this.sizes[l + 1]];
      const name = `fc${l + 1}`;
      specs.push({ name: `${name}.weight`, shape: l === 0 ? [nIn, nOut] : [nOut, nIn], transposed: l === 0 });
      specs.push({ name: `${name}.bias`, shape: [nOut], transposed: false });
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

  /** PyTorch's default initialisation from a seed. */
  initialize(seed: number): void {
    const rng = new Rng(seed);
    for (let l = 0; l < this.nLayers; l++) {
      linearInit(this.tensors[2 * l].data, this.sizes[l], rng);
      linearInit(this.tensors[2 * l + 1].data, this.sizes[l], rng);
    }
  }

  /** Sizes the work buffers for up to `nRows` users and `nnz` output entries per call. */
  reserve(nRows: number, nnz: number): void {
    const { arena } = this.backend;
    if (nRows > this.rows.length) {
      this.rows = arena.i32(nRows);
      this.acts = this.sizes.slice(1, -1).map((h) => arena.f32(nRows * h));
      this.deltas = this.sizes.slice(1, -1).map((h) => arena.f32(nRows * h));
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

  private batch(csr: Csr, users: ArrayLike<number>): RowBatch {
    this.reserve(users.length, 0);
    for (let b = 0; b < users.length; b++) this.rows[b] = users[b];
    return {
      rows: this.rows,
      nRows: users.length,
      indptr: csr.indptr,
      indices: csr.indices,
      values: csr.values,
    };
  }

  /** Runs the hidden layers for `users`, reading their ratings from `input` (adopted). Returns the code. */
  encode(input: Csr, users: ArrayLike<number>): Float32Array {
    const { kernels } = this.backend;
    const b = this.batch(input, users);
    const n = users.length;
    const [w0, b0] = [this.tensors[0].data, this.tensors[1].data];
    kernels.sparseAffine(this.acts[0], b, w0, b0, this.sizes[1]);
    kernels.sigmoid(this.acts[0], n * this.sizes[1]);
    for (let l = 1; l < this.nLayers - 1; l++) {
      const [w, bias] = [this.tensors[2 * l].data, this.tensors[2 * l + 1].data];
      kernels.denseAffine(this.acts[l], this.acts[l - 1], w, bias, n, this.sizes[l], this.sizes[l + 1]);
      kernels.sigmoid(this.acts[l], n * this.sizes[l + 1]);
    }
    return this.acts[this.nLayers - 2];
  }

  /**
   * Predictions for the same `users` (after `encode`) at the entries `output` (adopted) holds for them,
   * in batch order. The returned view is overwritten by the next call.
   */
  decodeAt(output: Csr, users: ArrayLike<number>, nnz: number): Float32Array {
    this.reserve(users.length, nnz);
    const last = this.nLayers - 1;
    const b = this.batch(output, users);
    this.backend.kernels.sparseOutput(
      this.pred,
      b,
      this.acts[last - 1],
      this.tensors[2 * last].data,
      this.tensors[2 * last + 1].data,
      this.sizes[last],
    );
    return this.pred.subarray(0, nnz);
  }

  /** Every movie's output for one user (after `encode` of that user alone); overwritten by the next call. */
  decodeAll(): Float32Array {
    const last = this.nLayers - 1;
    const [w, bias] = [this.tensors[2 * last].data, this.tensors[2 * last + 1].data];
    this.allOutputs ??= this.backend.arena.f32(this.shape.nItems);
    const [nIn, nOut] = [this.sizes[last], this.sizes[last + 1]];
    this.backend.kernels.denseAffine(this.allOutputs, this.acts[last - 1], w, bias, 1, nIn, nOut);
    return this.allOutputs;
  }

  /**
   * One forward and backward pass reconstructing `users`' ratings in `target` (adopted). The encoder reads
   * `input` rows `inputRows` (by default the same ratings, for denoising a corrupted copy). Adds the gradient
   * of scale * sum of squared errors to `grads` (which the caller zeroes, or not) and returns that sum.
   */
  accumulateGradients(
    target: Csr,
    users: ArrayLike<number>,
    scale: number,
    input: Csr = target,
    inputRows: ArrayLike<number> = users,
  ): number {
    const { kernels } = this.backend;
    let nnz = 0;
    for (let b = 0; b < users.length; b++) nnz += target.indptr[users[b] + 1] - target.indptr[users[b]];
    this.encode(input, inputRows);
    this.decodeAt(target, users, nnz);
    const batch = this.batch(target, users);
    const n = users.length;
    const sse = kernels.squaredError(this.dPred, this.pred, batch, scale);
    const last = this.nLayers - 1;
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
    for (let l = last - 1; l >= 1; l--) {
      kernels.sigmoidBackward(this.deltas[l], this.deltas[l], this.acts[l], n * this.sizes[l + 1]);
      kernels.denseAffineBackward(
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
    kernels.sigmoidBackward(this.deltas[0], this.deltas[0], this.acts[0], n * this.sizes[1]);
    const inputBatch = this.batch(input, inputRows);
    kernels.sparseAffineBackward(
      this.gradTensors[0],
      this.gradTensors[1],
      inputBatch,
      this.deltas[0],
      this.sizes[1],
    );
    return sse;
  }
}
