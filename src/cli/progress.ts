/** What a progress display is told at the end of each unit of work. */
export interface ProgressUpdate {
  done: number;
  total: number;
  /** Short "name value" pairs shown after the bar, e.g. { loss: "0.912" }. */
  fields?: Record<string, string>;
}

/**
 * A progress bar on a terminal (one line redrawn, with elapsed time and ETA), or plain lines when the
 * stream is not a terminal (at most one every `plainEvery` units, and the last), so logs stay readable.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private lastPlain = -Infinity;
  private shown = false;

  /**
   * `quietFor`: seconds during which nothing is drawn, so that work that ends sooner leaves no bar (used
   * where the work is quick on small data and long on big data).
   */
  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly plainEvery = 1,
    private readonly quietFor = 0,
  ) {}

  update({ done, total, fields = {} }: ProgressUpdate): void {
    const elapsed = (performance.now() - this.started) / 1000;
    if (!this.shown && elapsed < this.quietFor) return;
    this.shown = true;
    const eta = done > 0 ? (elapsed / done) * (total - done) : Number.NaN;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join("  ");
    const counts = `${this.label} ${String(done).padStart(String(total).length)}/${total}`;
    const times = `${formatSeconds(elapsed)} elapsed, ETA ${formatSeconds(eta)}`;
    if (this.stream.isTTY) {
      const width = 24;
      const filled = Math.round((width * done) / Math.max(total, 1));
      const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
      this.stream.write(`\r\x1b[2K${bar} ${counts}  ${extra}  ${times}`);
      if (done >= total) this.stream.write("\n");
    } else if (done >= total || done - this.lastPlain >= this.plainEvery) {
      this.lastPlain = done;
      this.stream.write(`${counts}  ${extra}  ${times}\n`);
    }
  }
}

/** "1m05s", "12.3s" or "?" for a non-finite value. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 59.95) return `${s.toFixed(1)}s`;
  // Round to whole seconds first, so that 119.6 s reads 2m00s rather than 1m60s.
  const whole = Math.round(s);
  const m = Math.floor(whole / 60);
  return `${m}m${String(whole - 60 * m).padStart(2, "0")}s`;
}
