/** An error the service answers with its own HTTP status and message (4xx: the request's fault). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}
