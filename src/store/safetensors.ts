import { readFile, writeFile } from "node:fs/promises";

import type { Tensor } from "../model/model.js";

export type { Tensor } from "../model/model.js";

/** A safetensors file that cannot be read: names the file and what is wrong. */
export class ModelFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = "ModelFileError";
  }
}

const MAX_HEADER = 100 * 1024 * 1024;

/**
 * Writes tensors in the safetensors format (8-byte little-endian header length, JSON header with dtype,
 * shape and data_offsets per tensor and string metadata, then the raw little-endian data), which PyTorch
 * reads with `safetensors.torch.load_file`.
 */
export async function writeSafetensors(
  file: string,
  tensors: Record<string, Tensor>,
  metadata: Record<string, string>,
): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += t.data.byteLength;
  }
  await writeFile(file, out);
}

/** Reads a safetensors file, checking its structure: sizes, offsets, dtypes and shapes must agree. */
export async function readSafetensors(
  file: string,
): Promise<{ tensors: Record<string, Tensor>; metadata: Record<string, string> }> {
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    throw new ModelFileError(file, e.code === "ENOENT" ? "file not found" : e.message);
  });
  const fail = (why: string): never => {
    throw new ModelFileError(file, `not a valid model file: ${why}`);
  };
  if (bytes.length < 8) fail("shorter than its 8-byte header length");
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER || 8 + headerLength > bytes.length) fail("the header is cut short");
  let header: unknown = {};
  try {
    header = JSON.parse(bytes.toString("utf8", 8, 8 + headerLength));
  } catch {
    fail("the header is not JSON");
  }
  if (!isObject(header)) fail("the header is not a JSON object");
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  const spans: [number, number][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (!isObject(entry) || !Object.values(entry).every((v) => typeof v === "string"))
        fail("__metadata__ is not an object of strings");
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isObject(entry)) fail(`tensor ${name} is not described by an object`);
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = entry as { dtype: string; shape: number[]; data_offsets: number[] };
    if (dtype !== "F32" && dtype !== "I32")
      fail(`tensor ${name} has dtype ${dtype}; only F32 and I32 are used`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      fail(`tensor ${name} has a bad shape`);
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = Array.isArray(offsets) ? offsets : [-1, -1];
    if (
      !(
        Number.isInteger(begin) &&
        Number.isInteger(end) &&
        begin >= 0 &&
        end <= dataLength &&
        end - begin === 4 * count
      )
    ) {
      fail(`tensor ${name}'s data offsets do not match its shape or the file is truncated`);
    }
    spans.push([begin, end]);
    const copy = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end));
    tensors[name] = {
      dtype,
      shape,
      data: dtype === "F32" ? new Float32Array(copy.buffer, 0, count) : new Int32Array(copy.buffer, 0, count),
    } as Tensor;
  }
  // The tensors must tile the data section: back to back, none overlapping, no byte left over.
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end] of spans) {
    if (begin !== at)
      fail(begin < at ? "two tensors overlap" : "the data section has bytes no tensor accounts for");
    at = end;
  }
  if (at !== dataLength) fail("the data section has bytes no tensor accounts for");
  return { tensors, metadata };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
