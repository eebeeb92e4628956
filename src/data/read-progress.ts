/** Told, as a file streams, how many of its bytes (compressed ones for .gz) have been read of how many. */
export type ReadProgress = (read: number, total: number) => void;
