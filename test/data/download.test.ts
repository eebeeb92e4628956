import { createHash } from "node:crypto";
import { readdir, stat, writeFile } from "node:fs/promises";
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
// 64 MiB of zeros in a zip of about 64 KiB: a bomb, against a 1 MiB extraction limit.
const bombZip = zipSync({ "ml-100k/u.data": new Uint8Array(64 * 2 ** 20) }, { level: 9 });
const evilZip = zipSync({ "../escaped.txt": strToU8("nope"), "ml-100k/u.data": strToU8("1\t1\t5\t1\n") });
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

type Mode = "good" | "truncated" | "bad-md5" | "evil" | "missing" | "bomb" | "huge-md5" | "slow";
let mode: Mode = "good";
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const zip = mode === "evil" ? evilZip : mode === "bomb" ? bombZip : goodZip;
    if (mode === "missing") {
      res.writeHead(404).end();
    } else if (req.url === "/ml-100k.zip.md5" && mode === "huge-md5") {
      // 8 MiB before the checksum: the downloader must stop reading long before.
      res.write(" ".repeat(8 * 2 ** 20));
      res.end(md5(zip));
    } else if (req.url === "/ml-100k.zip" && mode === "slow") {
      // Half the zip, then a pause long enough for a second download to find the first one's lock.
      res.writeHead(200, { "content-length": zip.length });
      res.write(zip.subarray(0, zip.length >> 1));
      setTimeout(() => res.end(zip.subarray(zip.length >> 1)), 300);
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

describe("the downloader's limits and safety", () => {
  const expectNothingLeft = async (dir: string, keep: string[] = []) =>
    expect(await readdir(dir)).toEqual(keep);

  it("stops a zip bomb at the extraction limit, and leaves nothing", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      mode = "bomb";
      const error = await downloadDataset("ml-100k", {
        dataDir: dir,
        baseUrl,
        limits: { extractedBytes: 2 ** 20 },
      }).catch((e) => e);
      expect(error).toBeInstanceOf(DownloadError);
      expect(error.message).toMatch(
        /could not extract ml-100k\.zip: it would extract more than the 1048576-byte limit/,
      );
      await expectNothingLeft(dir);
    } finally {
      await cleanup();
    }
  });

  it("reads no more of the .md5 file than its limit, and refuses a zip the server says is too big", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      mode = "huge-md5";
      const md5Error = await downloadDataset("ml-100k", { dataDir: dir, baseUrl }).catch((e) => e);
      expect(md5Error.message).toMatch(/no md5 checksum in the first 4096 bytes of the file/);
      mode = "good";
      const big = await downloadDataset("ml-100k", {
        dataDir: dir,
        baseUrl,
        limits: { zipBytes: 100 },
      }).catch((e) => e);
      expect(big.message).toMatch(/the server says it is \d+ bytes, over the 100-byte limit/);
      await expectNothingLeft(dir);
    } finally {
      await cleanup();
    }
  });

  it("--force keeps the old copy when the new download fails, and replaces it when it succeeds", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      mode = "good";
      await downloadDataset("ml-100k", { dataDir: dir, baseUrl });
      mode = "bad-md5";
      await expect(downloadDataset("ml-100k", { dataDir: dir, baseUrl, force: true })).rejects.toThrow(
        /checksum/,
      );
      expect((await stat(join(dir, "ml-100k", "u.data"))).isFile()).toBe(true);
      mode = "good";
      expect((await downloadDataset("ml-100k", { dataDir: dir, baseUrl, force: true })).skipped).toBe(false);
      await expectNothingLeft(dir, ["ml-100k"]);
    } finally {
      await cleanup();
    }
  });

  it("lets one of two concurrent downloads into one folder run, and the other say why it did not", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      mode = "slow";
      const [a, b] = await Promise.allSettled([
        downloadDataset("ml-100k", { dataDir: dir, baseUrl }),
        downloadDataset("ml-100k", { dataDir: dir, baseUrl }),
      ]);
      const outcomes = [a.status, b.status].sort();
      expect(outcomes).toEqual(["fulfilled", "rejected"]);
      const refused = [a, b].find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(refused.reason.message).toMatch(/another download of this data set is running \(process \d+/);
      await expectNothingLeft(dir, ["ml-100k"]);
    } finally {
      await cleanup();
    }
  });

  it("says what is wrong with a data folder it cannot write, and where to go instead", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      mode = "good";
      const file = join(dir, "not-a-folder");
      await writeFile(file, "x");
      const error = await downloadDataset("ml-100k", { dataDir: join(file, "data"), baseUrl }).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(DownloadError);
      expect(error.message).toMatch(/cannot create .*not-a-folder\/data/);
    } finally {
      await cleanup();
    }
  });
});
