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
