/** An error the service answers with its own HTTP status and message (4xx: the request's fault). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Headers of the answer, e.g. Retry-After on a 503. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}
