import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadData } from "../../src/data/load.js";
import { createBackend } from "../../src/kernels/index.js";
import { AutoencoderModel } from "../../src/model/autoencoder-model.js";
import { predict } from "../../src/model/model.js";
import { loadModel, saveModel } from "../../src/store/model-file.js";
import { ModelFileError } from "../../src/store/safetensors.js";
import { MODEL_DEFAULTS } from "../../src/train/presets.js";
import { trainAutoencoder } from "../../src/train/train-autoencoder.js";
import { relativeError, tempDir } from "../helpers.js";

describe("model files", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  let model: AutoencoderModel;
  let data: Awaited<ReturnType<typeof loadData>>;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    data = await loadData("synthetic:users=120,items=60,ratings=3000,min=5", { seed: 2 });
    const { sae } = MODEL_DEFAULTS;
    model = new AutoencoderModel(
      "sae",
      { ...sae.model, hidden: [8, 4, 8] },
      data.train,
      data.scale,
      createBackend(),
    );
    model.network.initialize(3);
    trainAutoencoder(model, { ...sae.train, epochs: 40, patience: 0 });
    file = join(dir, "model.safetensors");
    await saveModel(file, model, {
      settings: sae,
      history: [],
      dataset: data.dataset,
      split: data.split,
      userIds: data.userIds,
      itemIds: data.itemIds,
      movies: new Map([[1, { id: 1, title: "One (2000)", year: 2000, genres: ["Drama"] }]]),
      metrics: { test: { rmse: 1 } },
    });
  });
  afterAll(() => cleanup());

  it("round-trips: identical predictions, header, ids and movies", async () => {
    const expected = predict(model, data.test);
    expect(new Set(expected).size).toBeGreaterThan(50);
    for (const kernels of ["wasm", "reference"] as const) {
      const loaded = await loadModel(file, createBackend(kernels));
      const predicted = predict(loaded.model, data.test);
      // The same kernels give the same bits; the plain-TypeScript twins sum in another order.
      if (kernels === "wasm") expect(predicted).toEqual(expected);
      else expect(relativeError(predicted, expected)).toBeLessThan(1e-5);
      expect(loaded.header).toMatchObject({
        kind: "sae",
        version: 3,
        config: { hidden: [8, 4, 8] },
        nItems: 60,
      });
      expect(loaded.userIds.ids).toEqual(data.userIds.ids);
      expect(loaded.movies.get(1)?.title).toBe("One (2000)");
    }
  });

  it("round-trips an item-based AutoRec with its input offset, orientation and fold-in ridge", async () => {
    const config = { ...MODEL_DEFAULTS["autorec-i"].model, hidden: [12] };
    const autorec = new AutoencoderModel("autorec-i", config, data.train, data.scale, createBackend(), 7);
    autorec.network.initialize(5);
    trainAutoencoder(autorec, { ...MODEL_DEFAULTS["autorec-i"].train, epochs: 5, patience: 0, l2: 1 });
    const itemFile = join(dir, "autorec.safetensors");
    await saveModel(itemFile, autorec, {
      settings: MODEL_DEFAULTS["autorec-i"],
      history: [],
      dataset: data.dataset,
      split: data.split,
      userIds: data.userIds,
      itemIds: data.itemIds,
      movies: new Map(),
      metrics: {},
    });
    const loaded = await loadModel(itemFile, createBackend());
    expect(loaded.header).toMatchObject({
      kind: "autorec-i",
      config: { orientation: "item", inputOffset: 15, foldInRidge: 7 },
    });
    expect(predict(loaded.model, data.test)).toEqual(predict(autorec, data.test));
    expect(loaded.model.foldIn([1, 2], [5, 1])).toEqual(autorec.foldIn([1, 2], [5, 1]));
  });

  it("refuses truncated, corrupted, wrong-version and wrong-kind files with the file's name", async () => {
    const bytes = await readFile(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = bytes.subarray(8, 8 + headerLength).toString("utf8");
    const withHeader = (text: string) => {
      const h = Buffer.from(text.padEnd(headerLength, " "));
      return Buffer.concat([bytes.subarray(0, 8), h, bytes.subarray(8 + headerLength)]);
    };
    // Two tensors of 8 bytes each over the same 8 bytes, and 8 more bytes that nothing claims: the sizes add
    // up to the data section, but the tensors do not tile it.
    const overlapping = () => {
      const h = Buffer.from(
        JSON.stringify({
          a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
          b: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        }),
      );
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(h.length));
      return Buffer.concat([length, h, Buffer.alloc(16)]);
    };
    const cases: [string, Buffer, RegExp][] = [
      ["truncated", bytes.subarray(0, bytes.length - 100), /truncated/],
      ["tiny", bytes.subarray(0, 5), /shorter than its 8-byte header length/],
      ["garbage header", withHeader("{not json"), /the header is not JSON/],
      [
        "wrong version",
        withHeader(header.replace('\\"version\\":3', '\\"version\\":9')),
        /version 9 is not supported/,
      ],
      [
        "wrong kind",
        withHeader(header.replace('\\"kind\\":\\"sae\\"', '\\"kind\\":\\"xyz\\"')),
        /model kind "xyz"/,
      ],
      ["no aerec header", withHeader(header.replace('"aerec"', '"other"')), /not an aerec model file/],
      ["a null header", withHeader("null"), /the header is not a JSON object/],
      ["an array header", withHeader("[1,2]"), /the header is not a JSON object/],
      ["a null tensor entry", withHeader('{"w":null}'), /tensor w is not described by an object/],
      [
        "metadata that is not strings",
        withHeader('{"__metadata__":{"aerec":1}}'),
        /not an object of strings/,
      ],
      ["overlapping tensors", overlapping(), /two tensors overlap/],
    ];
    for (const [name, content, message] of cases) {
      const bad = join(dir, `${name}.safetensors`);
      await writeFile(bad, content);
      const error = await loadModel(bad, createBackend()).catch((e) => e);
      expect(error, name).toBeInstanceOf(ModelFileError);
      expect(error.message, name).toMatch(message);
      expect(error.message, name).toContain(bad);
    }
    // Flip one byte of the stored training ratings (the last tensors hold them): the fingerprint catches it.
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 2000] ^= 0x40;
    await writeFile(join(dir, "tampered.safetensors"), tampered);
    await expect(loadModel(join(dir, "tampered.safetensors"), createBackend())).rejects.toThrow(
      /fingerprint|NaN/,
    );
    // A header edit that keeps the file well-formed (the learning rate changed, same length) is caught too.
    const edited = withHeader(header.replace(/\\"lr\\":(\d)/, '\\"lr\\":7'));
    expect(edited.equals(bytes)).toBe(false);
    await writeFile(join(dir, "edited.safetensors"), edited);
    await expect(loadModel(join(dir, "edited.safetensors"), createBackend())).rejects.toThrow(
      /do not match the file's fingerprint/,
    );
    // 200 single-bit flips spread over the whole file (header, weights, ratings, ids): every one refused by name.
    let refused = 0;
    for (let k = 0; k < 200; k++) {
      const flipped = Buffer.from(bytes);
      const at = Math.floor(((k * 7919 + 13) % 200) * (bytes.length / 200)) + (k % 7);
      flipped[Math.min(at, bytes.length - 1)] ^= 1 << (k % 8);
      const path = join(dir, "flipped.safetensors");
      await writeFile(path, flipped);
      const error = await loadModel(path, createBackend()).catch((e) => e);
      if (error instanceof ModelFileError && error.message.includes(path)) refused++;
      else expect.fail(`flip ${k} at byte ${at}: ${error instanceof Error ? error.message : "loaded"}`);
    }
    expect(refused).toBe(200);
    const nan = Buffer.from(bytes);
    nan.writeFloatLE(Number.NaN, 8 + headerLength);
    await writeFile(join(dir, "nan.safetensors"), nan);
    await expect(loadModel(join(dir, "nan.safetensors"), createBackend())).rejects.toThrow(/fingerprint/);
    await expect(loadModel(join(dir, "absent.safetensors"), createBackend())).rejects.toThrow(
      /file not found/,
    );
  });
});
