import type { Backend, Kernels } from "./types.js";

/** Where a run's time went: seconds and calls for each kernel, and for the labelled work around them. */
export interface ProfileEntry {
  name: string;
  seconds: number;
  calls: number;
}

/** Accumulates time per label. Kernels running on worker threads count once, as the caller's wait. */
export class KernelProfile {
  private readonly entries = new Map<string, ProfileEntry>();

  /** Adds one call of `seconds` to `name`. */
  add(name: string, seconds: number): void {
    const entry = this.entries.get(name);
    if (entry) {
      entry.seconds += seconds;
      entry.calls++;
    } else this.entries.set(name, { name, seconds, calls: 1 });
  }

  /** Runs `work`, counting its time under `name`. */
  time<T>(name: string, work: () => T): T {
    const started = performance.now();
    try {
      return work();
    } finally {
      this.add(name, (performance.now() - started) / 1000);
    }
  }

  /** Every label, the most time first. */
  entriesByTime(): ProfileEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e })).sort((a, b) => b.seconds - a.seconds);
  }
}

/** Runs `work`, counted under `name` when `backend` is profiled. */
export function timed<T>(backend: Backend, name: string, work: () => T): T {
  return backend.profile ? backend.profile.time(name, work) : work();
}

/**
 * The same backend with every kernel call timed into `backend.profile` (the arena and threads are shared).
 * Costs a clock read per call: for finding where time goes, not for production runs.
 */
export function profiledBackend(backend: Backend): Backend & { profile: KernelProfile } {
  const profile = new KernelProfile();
  const inner = backend.kernels;
  const wrapped: Record<string, unknown> = { name: inner.name };
  for (const key of Object.keys(inner).concat(Object.getOwnPropertyNames(Object.getPrototypeOf(inner)))) {
    const value = (inner as unknown as Record<string, unknown>)[key];
    if (key === "constructor" || typeof value !== "function" || key in wrapped) continue;
    const kernel = value as (...args: unknown[]) => unknown;
    wrapped[key] = (...args: unknown[]) => {
      const started = performance.now();
      try {
        return kernel.apply(inner, args);
      } finally {
        profile.add(key, (performance.now() - started) / 1000);
      }
    };
  }
  return { ...backend, kernels: wrapped as unknown as Kernels, profile };
}
