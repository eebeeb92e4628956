type TypedArrayCtor<T> = { new (n: number): T; BYTES_PER_ELEMENT: number };
type Growable = Int32Array | Uint32Array | Float32Array | Float64Array;

/** An append-only typed array that doubles its capacity; `view()` returns the filled part. */
export class GrowableArray<T extends Growable> {
  private data: T;
  length = 0;

  constructor(
    private readonly ctor: TypedArrayCtor<T>,
    capacity = 1024,
  ) {
    this.data = new ctor(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new this.ctor(this.data.length * 2);
      (next as Growable).set(this.data as Growable);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  /** The filled part, trimmed to its length (a copy only when capacity is left over). */
  view(): T {
    return (this.length === this.data.length ? this.data : this.data.slice(0, this.length)) as T;
  }
}
