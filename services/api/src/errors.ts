// The API's error classes; `http/error-handler.ts` turns them into answers.

/** A request parameter the API cannot use: answered 400 naming the parameter. */
export class BadParameterError extends Error {
  override readonly name = 'BadParameterError';
  readonly statusCode = 400;
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a request names does not exist (a campaign without a budget, a segment, an alert rule): answered 404 with the message. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  readonly statusCode = 404;
}
