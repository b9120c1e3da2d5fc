/**
 * Why a query got no rows, as its answer says it: the HTTP status (400 the query, 408 too long,
 * 413 too large, 429 too many at once, 503 no worker free, 500 the engine failed) and a reason
 * in plain words. Thrown by the worker and the pool, answered by the route.
 */
export class SqlRefusal extends Error {
  override readonly name = 'SqlRefusal';
  constructor(
    readonly statusCode: 400 | 408 | 413 | 429 | 500 | 503,
    message: string,
    /** The request field at fault (400): `sql` for a query the sandbox refuses. */
    readonly parameter?: string,
  ) {
    super(message);
  }
}
