import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
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
  /** Download again even when the data set is already there (the old copy stays until the new one is in place). */
  force?: boolean;
  /**
   * Stops the download (an AbortController's signal); what it wrote is removed. Typed by what is read of it,
   * so that the public types need no Node or DOM declarations.
   */
  signal?: { readonly aborted: boolean };
  /** Overrides of DOWNLOAD_LIMITS. */
  limits?: Partial<DownloadLimits>;
}

/** Most bytes a download may take, so that a wrong or hostile server cannot fill the disk or the memory. */
export interface DownloadLimits {
  /** Of the zip, declared or received. */
  zipBytes: number;
  /** Of everything extracted from it (a zip bomb stops here). */
  extractedBytes: number;
  /** Of the .md5 file, read no further. */
  md5Bytes: number;
}

/** The largest MovieLens zip is ML-32M's (239 MB), extracting to 0.9 GB: these leave room. */
export const DOWNLOAD_LIMITS: DownloadLimits = {
  zipBytes: 2 * 2 ** 30,
  extractedBytes: 8 * 2 ** 30,
  md5Bytes: 4096,
};

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
 * under the data folder, within DOWNLOAD_LIMITS. Nothing is left behind on failure (a full disk, a
 * permission, an interrupt): the zip is written to a `.part` file and the files to a temporary folder, both
 * named for this process, and the folder is renamed into place only when everything has been checked and
 * extracted; an older copy is moved aside first and removed last. A lock file keeps two downloads of one
 * data set out of each other's way.
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
  const signal = options.signal as AbortSignal | undefined;
  const limits = { ...DOWNLOAD_LIMITS, ...options.limits };
  await mkdir(dataDir, { recursive: true }).catch((e: Error) => {
    throw fail(`cannot create ${dataDir}: ${describeFsError(e)}`);
  });
  const unlock = await lock(join(dataDir, `.${info.archive}.lock`)).catch((e: Error) => {
    throw fail(e.message);
  });
  const zipPath = join(dataDir, `.${info.archive}.zip.${process.pid}.part`);
  const staging = join(dataDir, `.${info.archive}.${process.pid}.extracting`);
  const aside = join(dataDir, `.${info.archive}.${process.pid}.old`);
  try {
    const expected = await fetchMd5(`${base}/${info.archive}.zip.md5`, limits, signal).catch((e: Error) => {
      throw fail(`could not get the checksum ${base}/${info.archive}.zip.md5: ${describeFsError(e)}`);
    });
    const { md5, bytes } = await fetchToFile(
      `${base}/${info.archive}.zip`,
      zipPath,
      limits,
      options.onProgress,
      signal,
    ).catch((e: Error) => {
      throw fail(`could not download ${base}/${info.archive}.zip: ${describeFsError(e)}`);
    });
    if (md5 !== expected) {
      throw fail(
        `checksum mismatch for ${info.archive}.zip: expected md5 ${expected}, got ${md5} (the file is corrupt)`,
      );
    }
    await extractZip(zipPath, staging, limits.extractedBytes, signal).catch((e: Error) => {
      throw fail(`could not extract ${info.archive}.zip: ${describeFsError(e)}`);
    });
    const extracted = await findExtracted(staging, info);
    if (!extracted) throw fail(`${info.archive}.zip does not contain ${info.ratingsFile}`);
    // The old copy moves aside (one rename), the new one takes its place (another), then the old one goes.
    const hadCopy = await rename(folder, aside).then(
      () => true,
      () => false,
    );
    try {
      await rename(extracted, folder);
    } catch (e) {
      if (hadCopy) await rename(aside, folder).catch(() => {});
      throw fail(`could not move the data into ${folder}: ${describeFsError(e as Error)}`);
    }
    return { folder, md5, bytes, skipped: false };
  } finally {
    await Promise.all([
      rm(zipPath, { force: true }),
      rm(staging, { recursive: true, force: true }),
      rm(aside, { recursive: true, force: true }),
    ]);
    await unlock();
  }
}

/** A file system error in words a user can act on (a full disk, a permission), with the path. */
function describeFsError(e: Error): string {
  const { code, path } = e as { code?: string; path?: string };
  const where = path ? ` (${path})` : "";
  if (code === "ENOSPC")
    return `no space left on the device${where}: free some, or pass --data-dir elsewhere`;
  if (code === "EACCES" || code === "EPERM")
    return `permission denied${where}: pass --data-dir to a folder you can write`;
  if (code === "EROFS") return `the file system is read-only${where}: pass --data-dir elsewhere`;
  if (e.name === "AbortError") return "interrupted";
  return e.message;
}

/**
 * Takes the lock file `path` (created exclusively, holding this process's id), or throws when a live process
 * holds it; a lock left by a process that is gone is taken over. Returns the release.
 */
async function lock(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST")
        throw new Error(`cannot lock ${path}: ${describeFsError(e as Error)}`);
      const holder = Number(await readFile(path, "utf8").catch(() => ""));
      if (holder > 0 && isAlive(holder)) {
        throw new Error(`another download of this data set is running (process ${holder}; lock ${path})`);
      }
      await rm(path, { force: true });
    }
  }
  throw new Error(`cannot lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** The md5 checksum in the first `limits.md5Bytes` of `url` (a GroupLens .md5 file is one line). */
async function fetchMd5(url: string, limits: DownloadLimits, signal?: AbortSignal): Promise<string> {
  const response = await fetch(url, { signal });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  let text = "";
  const reader = response.body.getReader();
  try {
    while (text.length < limits.md5Bytes) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString("latin1");
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const match = /\b[0-9a-f]{32}\b/i.exec(text.slice(0, limits.md5Bytes));
  if (!match) throw new Error(`no md5 checksum in the first ${limits.md5Bytes} bytes of the file`);
  return match[0].toLowerCase();
}

/** A promise for `out`'s drain, failing on its error (ENOSPC arrives as one). */
function drained(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      out.off("drain", onDrain);
      reject(e);
    };
    const onDrain = () => {
      out.off("error", onError);
      resolve();
    };
    out.once("drain", onDrain);
    out.once("error", onError);
  });
}

/** Ends `out`, failing on a write error that is still to come. */
function finished(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once("error", reject);
    out.end(() => resolve());
  });
}

async function fetchToFile(
  url: string,
  file: string,
  limits: DownloadLimits,
  onProgress?: (received: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ md5: string; bytes: number }> {
  const response = await fetch(url, { signal });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length") ?? 0);
  if (total > limits.zipBytes) {
    await response.body.cancel().catch(() => {});
    throw new Error(`the server says it is ${total} bytes, over the ${limits.zipBytes}-byte limit`);
  }
  const hash = createHash("md5");
  const out = createWriteStream(file);
  // A write error (a full disk) is taken up by the next drain or by the end.
  let writeError: Error | null = null;
  out.on("error", (e) => {
    writeError = e;
  });
  let received = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      received += chunk.length;
      if (received > limits.zipBytes) throw new Error(`it is over the ${limits.zipBytes}-byte limit`);
      if (writeError) throw writeError;
      if (!out.write(chunk)) await drained(out);
      onProgress?.(received, total);
    }
  } finally {
    await finished(out).catch((e: Error) => {
      writeError ??= e;
    });
  }
  if (writeError) throw writeError;
  if (total > 0 && received !== total)
    throw new Error(`the transfer stopped after ${received} of ${total} bytes`);
  return { md5: hash.digest("hex"), bytes: received };
}

/**
 * Streams a zip archive into `dest`, refusing entries whose path would leave it and stopping once more
 * than `maxBytes` would be extracted. The zip is read a small chunk at a time, and the next chunk waits
 * until the files written from the last have drained, so memory stays bounded however well it compresses.
 */
async function extractZip(
  zipPath: string,
  dest: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<void> {
  await rm(dest, { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  const outputs: WriteStream[] = [];
  const ends: Promise<void>[] = [];
  let failure: Error | null = null;
  let extracted = 0;
  const unzip = new Unzip((entry) => {
    const target = normalize(join(dest, entry.name));
    if (!target.startsWith(dest + sep)) {
      failure ??= new Error(`the archive entry ${JSON.stringify(entry.name)} points outside the folder`);
      return;
    }
    if (entry.name.endsWith("/") || failure) return;
    try {
      // Synchronously, so that no data of the entry arrives before its file can be written.
      mkdirSync(dirname(target), { recursive: true });
    } catch (e) {
      failure ??= e as Error;
      return;
    }
    const out = createWriteStream(target);
    out.on("error", (e) => {
      failure ??= e;
    });
    outputs.push(out);
    entry.ondata = (err, data, final) => {
      if (err) failure ??= err;
      extracted += data.length;
      if (extracted > maxBytes)
        failure ??= new Error(`it would extract more than the ${maxBytes}-byte limit`);
      if (failure) return entry.terminate();
      out.write(data);
      if (final) ends.push(finished(out));
    };
    entry.start();
  });
  unzip.register(UnzipInflate);
  for await (const chunk of createReadStream(zipPath, { highWaterMark: 1 << 14 }) as AsyncIterable<Buffer>) {
    if (signal?.aborted) throw Object.assign(new Error("interrupted"), { name: "AbortError" });
    unzip.push(chunk);
    if (failure) break;
    await Promise.all(outputs.filter((o) => o.writableNeedDrain).map(drained));
  }
  if (!failure) unzip.push(new Uint8Array(0), true);
  for (const out of outputs) if (!out.writableEnded) out.destroy();
  if (failure) throw failure;
  await Promise.all(ends);
  if (failure) throw failure;
}

async function findExtracted(staging: string, info: DatasetInfo): Promise<string | null> {
  for (const dir of [...info.folders.map((f) => join(staging, f)), staging]) {
    if (await stat(join(dir, info.ratingsFile)).catch(() => null)) return dir;
  }
  return null;
}
