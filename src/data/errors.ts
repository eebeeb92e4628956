/** A data file that is not what its format says: names the file and the 1-based line. */
export class DataFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = "DataFormatError";
  }
}

/** A data set, file or folder that is not where aerec looked; the message says what to do. */
export class DataNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataNotFoundError";
  }
}
