/** Compressed sparse rows: row r's entries are indices/values[indptr[r]..indptr[r+1]), columns ascending. */
export interface Csr {
  nRows: number;
  nCols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/**
 * A raw id as a file states it: a number when the text is a plain integer (digits, no leading zero, at most
 * 15 of them, so that it is exact as a double), otherwise the text itself. "42" and 42 are one id; "042" is
 * another.
 */
export type RawId = number | string;

const PLAIN_INTEGER = /^(0|[1-9]\d{0,14})$/;

/** The RawId that `text` names (see RawId). */
export function rawIdOf(text: string): RawId {
  return PLAIN_INTEGER.test(text) ? Number(text) : text;
}

/** Numbers first, ascending, then texts in code-unit order: the order of an IdMap's indices. */
export function compareRawIds(a: RawId, b: RawId): number {
  if (typeof a === "number") return typeof b === "number" ? a - b : -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Largest id a dense lookup table may be sized for, relative to the number of ids (beyond it: a Map). */
const DENSE_SLACK = 4;

/**
 * A two-way map between raw ids (as files state them) and dense indices 0..size-1, ordered by raw id
 * (compareRawIds). Small non-negative integer ids (MovieLens's) are kept in an Int32Array with an array
 * lookup; any other ids (text, or integers too large for a table) in an array with a Map lookup.
 */
export class IdMap {
  private readonly table?: Int32Array;
  private readonly map?: Map<RawId, number>;
  private allNumbers?: boolean;

  /** `ids` must be ascending (compareRawIds) and unique: ids[index] is the raw id of that index. */
  constructor(readonly ids: Int32Array | readonly RawId[]) {
    const n = ids.length;
    const maxId = n > 0 ? ids[n - 1] : 0;
    if (ids instanceof Int32Array && (maxId as number) <= DENSE_SLACK * n + (1 << 20)) {
      this.table = new Int32Array((maxId as number) + 1).fill(-1);
      for (let i = 0; i < n; i++) this.table[ids[i]] = i;
    } else {
      this.map = new Map();
      for (let i = 0; i < n; i++) this.map.set(ids[i], i);
    }
  }

  /** The map of every id present in any of `arrays` (non-negative integers). */
  static of(...arrays: Int32Array[]): IdMap {
    let maxId = 0;
    for (const a of arrays) for (let i = 0; i < a.length; i++) if (a[i] > maxId) maxId = a[i];
    const seen = new Uint8Array(maxId + 1);
    let count = 0;
    for (const a of arrays) {
      for (let i = 0; i < a.length; i++) {
        if (!seen[a[i]]) {
          seen[a[i]] = 1;
          count++;
        }
      }
    }
    const ids = new Int32Array(count);
    for (let id = 0, k = 0; id <= maxId; id++) if (seen[id]) ids[k++] = id;
    return new IdMap(ids);
  }

  /** The map of `ids` in any order, repeats allowed. */
  static fromRaw(ids: Iterable<RawId>): IdMap {
    const unique = [...new Set(ids)].sort(compareRawIds);
    const small = unique.every((id) => typeof id === "number" && id <= 0x7fffffff);
    return new IdMap(small ? Int32Array.from(unique as number[]) : unique);
  }

  get size(): number {
    return this.ids.length;
  }

  /** True when every id is a number (as MovieLens's are). */
  get numeric(): boolean {
    this.allNumbers ??= this.ids instanceof Int32Array || this.ids.every((id) => typeof id === "number");
    return this.allNumbers;
  }

  /** The raw id of dense index `index`. */
  idAt(index: number): RawId {
    return this.ids[index];
  }

  /** Dense index of `rawId` (a number, or text that rawIdOf reads), or -1 when it is unknown. */
  indexOf(rawId: RawId): number {
    const id = typeof rawId === "string" ? rawIdOf(rawId) : rawId;
    if (this.table) {
      return typeof id === "number" && Number.isInteger(id) && id >= 0 && id < this.table.length
        ? this.table[id]
        : -1;
    }
    return this.map!.get(id) ?? -1;
  }

  /** Dense indices for every raw id in `rawIds`, -1 for an unknown one. */
  indicesOf(rawIds: Int32Array | readonly RawId[]): Int32Array {
    const out = new Int32Array(rawIds.length);
    const { table } = this;
    // The MovieLens loaders' case, once per rating: integers into the table, no conversions.
    if (table && rawIds instanceof Int32Array) {
      for (let i = 0; i < rawIds.length; i++) {
        const id = rawIds[i];
        out[i] = id >= 0 && id < table.length ? table[id] : -1;
      }
    } else for (let i = 0; i < rawIds.length; i++) out[i] = this.indexOf(rawIds[i]);
    return out;
  }

  /** True when both maps hold the same ids in the same order. */
  equals(other: IdMap): boolean {
    return this.size === other.size && this.ids.every((id: RawId, i: number) => other.ids[i] === id);
  }
}

/**
 * Builds CSR from coordinates with two stable counting sorts (by column, then by row), so each row comes out
 * sorted by column in O(n + nRows + nCols) time.
 */
export function buildCsr(
  rows: Int32Array,
  cols: Int32Array,
  values: Float32Array,
  nRows: number,
  nCols: number,
): Csr {
  const n = rows.length;
  const byCol = countingOrder(cols, nCols, null);
  const order = countingOrder(rows, nRows, byCol);
  const indptr = new Int32Array(nRows + 1);
  for (let i = 0; i < n; i++) indptr[rows[i] + 1]++;
  for (let r = 0; r < nRows; r++) indptr[r + 1] += indptr[r];
  const indices = new Int32Array(n);
  const vals = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    indices[k] = cols[order[k]];
    vals[k] = values[order[k]];
  }
  return { nRows, nCols, indptr, indices, values: vals };
}

/** Stable order of positions by `keys` (taking positions in the order `within` gives, or 0..n-1). */
function countingOrder(keys: Int32Array, nKeys: number, within: Int32Array | null): Int32Array {
  const n = keys.length;
  const start = new Int32Array(nKeys + 1);
  for (let i = 0; i < n; i++) start[keys[i] + 1]++;
  for (let k = 0; k < nKeys; k++) start[k + 1] += start[k];
  const out = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    const i = within ? within[t] : t;
    out[start[keys[i]]++] = i;
  }
  return out;
}

/**
 * The positions of every (row, column) pair that repeats one seen before (in position order), found with
 * the two counting sorts buildCsr uses, in memory proportional to the pairs.
 */
export function repeatedPairs(rows: Int32Array, cols: Int32Array, nRows: number, nCols: number): Uint8Array {
  const order = countingOrder(rows, nRows, countingOrder(cols, nCols, null));
  const repeated = new Uint8Array(rows.length);
  for (let t = 1; t < order.length; t++) {
    const [a, b] = [order[t - 1], order[t]];
    // The sorts are stable, so the first of a run is the pair's earliest position.
    if (rows[a] === rows[b] && cols[a] === cols[b]) repeated[b] = 1;
  }
  return repeated;
}

/** The first (row, column) that appears twice in a CSR built by buildCsr, or null. */
export function findDuplicate(csr: Csr): { row: number; col: number } | null {
  for (let r = 0; r < csr.nRows; r++) {
    for (let k = csr.indptr[r] + 1; k < csr.indptr[r + 1]; k++) {
      if (csr.indices[k] === csr.indices[k - 1]) return { row: r, col: csr.indices[k] };
    }
  }
  return null;
}

/**
 * A set of ratings in dense indices (users 0..nUsers-1, items 0..nItems-1), stored as coordinates with CSR
 * views by user and by item built on first use. Train and test parts of one data set share the index space.
 */
export class Ratings {
  private userCsr?: Csr;
  private itemCsr?: Csr;

  constructor(
    readonly users: Int32Array,
    readonly items: Int32Array,
    readonly values: Float32Array,
    readonly nUsers: number,
    readonly nItems: number,
    /** When each rating was given (seconds, or whatever the file's unit is), where the file says. */
    readonly times?: Uint32Array | Float64Array,
  ) {}

  /** Number of ratings. */
  get size(): number {
    return this.values.length;
  }

  /** Rows are users, columns items. */
  byUser(): Csr {
    this.userCsr ??= buildCsr(this.users, this.items, this.values, this.nUsers, this.nItems);
    return this.userCsr;
  }

  /** Rows are items, columns users. */
  byItem(): Csr {
    this.itemCsr ??= buildCsr(this.items, this.users, this.values, this.nItems, this.nUsers);
    return this.itemCsr;
  }

  /** The ratings at `positions`, in that order, in the same index space. */
  select(positions: ArrayLike<number>): Ratings {
    const n = positions.length;
    const users = new Int32Array(n);
    const items = new Int32Array(n);
    const values = new Float32Array(n);
    const source = this.times;
    const times = source && new (source.constructor as new (n: number) => Uint32Array | Float64Array)(n);
    for (let i = 0; i < n; i++) {
      const p = positions[i];
      users[i] = this.users[p];
      items[i] = this.items[p];
      values[i] = this.values[p];
      if (times) times[i] = source[p];
    }
    return new Ratings(users, items, values, this.nUsers, this.nItems, times);
  }

  /** These ratings followed by `other`'s, in this index space (which must hold both). */
  concat(other: Ratings): Ratings {
    const join = <T extends Int32Array | Float32Array | Uint32Array | Float64Array>(a: T, b: T): T => {
      const out = new (a.constructor as new (n: number) => T)(a.length + b.length);
      out.set(a);
      out.set(b, a.length);
      return out;
    };
    return new Ratings(
      join(this.users, other.users),
      join(this.items, other.items),
      join(this.values, other.values),
      Math.max(this.nUsers, other.nUsers),
      Math.max(this.nItems, other.nItems),
      this.times && other.times
        ? join(Float64Array.from(this.times), Float64Array.from(other.times))
        : undefined,
    );
  }

  /** Mean rating (0 for an empty set). */
  mean(): number {
    let s = 0;
    for (let i = 0; i < this.values.length; i++) s += this.values[i];
    return this.values.length > 0 ? s / this.values.length : 0;
  }
}
