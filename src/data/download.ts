import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, normalize, sep } from "node:path";
import { Unzip, UnzipInflate } from "fflate";
import { type DatasetInfo, datasetInfo } from "./datasets.js";
import { cacheDir } from "./load.js";

/** GroupLens' download folder; `AEREC_DOWNLOAD_URL` or the `baseUrl` option points elsewhere (a mirror). */
export const GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens";

/** Options of downloadDataset. */
export interface DownloadOptions {
  /** Where to extract (the archive's folder lands inside); default: the cache (see cacheDir). */
  dataDir?: string;
  baseUrl?: string;
  /** Called as bytes arrive; total is 0 when the server does not say. */
  onProgress?: (received: number, total: number) => void;
  /** Download again even when the data set is already there. */
  force?: boolean;
}

/** What a download produced. */
export interface DownloadResult {
  folder: string;
  md5: string;
  bytes: number;
  skipped: boolean;
}

/** A download that failed; the message says what happened and where to put the files instead. */
export class DownloadError extends Error {
  constructor(message: string, info: DatasetInfo, dataDir: string) {
    super(
      `${message}\nTo install ${info.name} by hand: download ${info.archive}.zip from ${GROUPLENS_URL}/ and unzip ` +
        `it into ${dataDir} (so that ${join(dataDir, info.folders[0], info.ratingsFile)} exists), or unzip it anywhere ` +
        "and pass --data-dir FOLDER or set MOVIELENS_DIR=FOLDER.",
    );
    this.name = "DownloadError";
  }
}

/**
 * Downloads `<archive>.zip` and its published `.zip.md5`, checks the checksum, and extracts the archive
 * under the data folder. Nothing is left behind on failure: the zip is written to a `.part` file and the
 * files to a temporary folder that is renamed only when everything has been checked and extracted.
 */
export async function downloadDataset(name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const info = datasetInfo(name);
  const dataDir = options.dataDir ?? cacheDir();
  const base = (options.baseUrl ?? process.env.AEREC_DOWNLOAD_URL ?? GROUPLENS_URL).replace(/\/+$/, "");
  const folder = join(dataDir, info.folders[0]);
  if (!options.force && (await stat(join(folder, info.ratingsFile)).catch(() => null))) {
    return { folder, md5: "", bytes: 0, skipped: true };
  }
  const fail = (message: string) => new DownloadError(message, info, dataDir);
  await mkdir(dataDir, { recursive: true });
  const zipPath = join(dataDir, `${info.archive}.zip.part`);
  const staging = join(dataDir, `.${info.archive}.extracting`);
  try {
    const expected = await fetchMd5(`${base}/${info.archive}.zip.md5`).catch((e: Error) => {
      throw fail(`could not get the checksum ${base}/${info.archive}.zip.md5: ${e.message}`);
    });
    const { md5, bytes } = await fetchToFile(
      `${base}/${info.archive}.zip`,
      zipPath,
      options.onProgress,
    ).catch((e: Error) => {
      throw fail(`could not download ${base}/${info.archive}.zip: ${e.message}`);
    });
    if (md5 !== expected) {
      throw fail(
        `checksum mismatch for ${info.archive}.zip: expected md5 ${expected}, got ${md5} (the file is corrupt)`,
      );
    }
    await rm(staging, { recursive: true, force: true });
    await extractZip(zipPath, staging).catch((e: Error) => {
      throw fail(`could not extract ${info.archive}.zip: ${e.message}`);
    });
    const extracted = await findExtracted(staging, info);
    if (!extracted) throw fail(`${info.archive}.zip does not contain ${info.ratingsFile}`);
    await rm(folder, { recursive: true, force: true });
    await rename(extracted, folder);
    return { folder, md5, bytes, skipped: false };
  } finally {
    await rm(zipPath, { force: true });
    await rm(staging, { recursive: true, force: true });
  }
}

async function fetchMd5(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const match = /\b[0-9a-f]{32}\b/i.exec(await response.text());
  if (!match) throw new Error("no md5 checksum in the file");
  return match[0].toLowerCase();
}

async function fetchToFile(
  url: string,
  file: string,
  onProgress?: (received: number, total: number) => void,
): Promise<{ md5: string; bytes: number }> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length") ?? 0);
  const hash = createHash("md5");
  const out = createWriteStream(file);
  let received = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      received += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
      onProgress?.(received, total);
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
  if (total > 0 && received !== total)
    throw new Error(`the transfer stopped after ${received} of ${total} bytes`);
  return { md5: hash.digest("hex"), bytes: received };
}

/** Streams a zip archive into `dest`, refusing entries whose path would leave it. */
async function extractZip(zipPath: string, dest: string): Promise<void> {
  const writes: Promise<void>[] = [];
  let failure: Error | null = null;
  const unzip = new Unzip((entry) => {
    const target = normalize(join(dest, entry.name));
    if (!target.startsWith(dest + sep)) {
      failure = new Error(`the archive entry ${JSON.stringify(entry.name)} points outside the folder`);
      return;
    }
    if (entry.name.endsWith("/")) return;
    writes.push(
      mkdir(dirname(target), { recursive: true }).then(
        () =>
          new Promise<void>((resolve, reject) => {
            const out = createWriteStream(target);
            out.on("error", reject);
            entry.ondata = (err, data, final) => {
              if (err) return reject(err);
              out.write(data);
              if (final) out.end(resolve);
            };
            entry.start();
          }),
      ),
    );
  });
  unzip.register(UnzipInflate);
  await mkdir(dest, { recursive: true });
  for await (const chunk of createReadStream(zipPath) as AsyncIterable<Buffer>) {
    unzip.push(chunk);
    if (failure) throw failure;
  }
  unzip.push(new Uint8Array(0), true);
  if (failure) throw failure;
  await Promise.all(writes);
}

async function findExtracted(staging: string, info: DatasetInfo): Promise<string | null> {
  for (const dir of [...info.folders.map((f) => join(staging, f)), staging]) {
    if (await stat(join(dir, info.ratingsFile)).catch(() => null)) return dir;
  }
  return null;
}
