import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DownloadError, downloadDataset } from "../../src/data/download.js";
import { loadData } from "../../src/data/load.js";
import { tempDir } from "../helpers.js";

// A real HTTP server on the loopback serving zips built here: the downloader's whole path (fetch, progress,
// md5, streaming extraction, atomic rename) runs for real.
const U_ITEM = Array.from(
  { length: 3 },
  (_, i) =>
    `${i + 1}|Movie ${i + 1} (199${i})|01-Jan-199${i}||http://x|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0`,
).join("\n");
const goodZip = zipSync({
  "ml-100k/u.data": strToU8("1\t1\t5\t1\n1\t2\t3\t2\n2\t3\t4\t3\n2\t1\t2\t4\n"),
  "ml-100k/u.item": strToU8(U_ITEM),
  "ml-100k/u.user": strToU8("1|24|M|technician|85711\n2|53|F|other|94043\n"),
});
const evilZip = zipSync({ "../escaped.txt": strToU8("nope"), "ml-100k/u.data": strToU8("1\t1\t5\t1\n") });
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

type Mode = "good" | "truncated" | "bad-md5" | "evil" | "missing";
let mode: Mode = "good";
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const zip = mode === "evil" ? evilZip : goodZip;
    if (mode === "missing") {
      res.writeHead(404).end();
    } else if (req.url === "/ml-100k.zip.md5") {
      res.end(`MD5 (ml-100k.zip) = ${mode === "bad-md5" ? "0".repeat(32) : md5(zip)}\n`);
    } else if (req.url === "/ml-100k.zip") {
      res.writeHead(200, { "content-length": zip.length });
      if (mode === "truncated") {
        res.write(zip.subarray(0, zip.length >> 1));
        res.destroy();
      } else res.end(zip);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("downloadDataset against a local server", () => {
  it("downloads, checks the md5, extracts, reports progress, and the data loads", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      mode = "good";
      const seen: number[] = [];
      const result = await downloadDataset("ml-100k", {
        dataDir: dir,
        baseUrl,
        onProgress: (r) => seen.push(r),
      });
      expect(result).toMatchObject({
        folder: join(dir, "ml-100k"),
        md5: md5(goodZip),
        bytes: goodZip.length,
        skipped: false,
      });
      expect(seen.at(-1)).toBe(goodZip.length);
      const data = await loadData("ml-100k", { dataDir: dir, split: "ratio:0.5" });
      expect(data.train.size + data.test.size).toBe(4);
      expect(data.movies.get(2)?.title).toBe("Movie 2 (1991)");
      expect((await downloadDataset("ml-100k", { dataDir: dir, baseUrl })).skipped).toBe(true);
      expect(await readdir(dir)).toEqual(["ml-100k"]);
    } finally {
      await cleanup();
    }
  });

  const failures: [Mode, RegExp][] = [
    ["truncated", /could not download .*ml-100k\.zip/],
    ["bad-md5", /checksum mismatch for ml-100k\.zip: expected md5 0{32}/],
    [
      "evil",
      /could not extract ml-100k\.zip: the archive entry "\.\.\/escaped\.txt" points outside the folder/,
    ],
    ["missing", /could not get the checksum .*HTTP 404/],
  ];
  it.each(failures)(
    "a %s download fails clearly, says where to put the files, and leaves nothing",
    async (m, message) => {
      const { dir, cleanup } = await tempDir();
      try {
        mode = m;
        const error = await downloadDataset("ml-100k", { dataDir: dir, baseUrl }).catch((e) => e);
        expect(error).toBeInstanceOf(DownloadError);
        expect(error.message).toMatch(message);
        expect(error.message).toMatch(/To install ml-100k by hand: download ml-100k\.zip .* unzip it into/);
        expect(await readdir(dir)).toEqual([]);
        await expect(stat(join(dir, "..", "escaped.txt"))).rejects.toThrow();
      } finally {
        await cleanup();
      }
    },
  );
});
