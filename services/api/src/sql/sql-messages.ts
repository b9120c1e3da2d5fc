// The messages between the API process and a SQL worker process (IPC, advanced serialization).
// Types only: both sides import this file, it imports nothing of theirs.
import type { AnswerFormat } from './formats/answer-format.js';
import type { QueryStats } from './formats/answer-pieces.js';
import type { RedisTableRows } from './redis-table-rows.js';
import type { SandboxSettings } from './sandbox-duckdb.js';

/** API process -> worker. */
export type ToWorker =
  | { readonly kind: 'init'; readonly settings: SandboxSettings }
  /** Parse and check the query; the worker answers `checked` with the Redis tables it reads. */
  | { readonly kind: 'check'; readonly id: number; readonly sql: string }
  /** Load the Redis tables' rows, run the checked query, keep its answer; the worker answers `answer`. */
  | { readonly kind: 'run'; readonly id: number; readonly format: AnswerFormat; readonly maxRows: number; readonly redisRows: RedisTableRows }
  /** Send the next piece of the answer (`piece`, or `end` after the last). */
  | { readonly kind: 'next'; readonly id: number }
  /** The query's time is up: interrupt it. */
  | { readonly kind: 'interrupt'; readonly id: number }
  /** Drop the query (answered, failed or abandoned by its client). */
  | { readonly kind: 'release'; readonly id: number };

/** The columns of an answer as the client sees them. */
export interface AnswerColumn {
  readonly name: string;
  readonly type: string;
}

/** Worker -> API process. */
export type FromWorker =
  | { readonly kind: 'started' }
  | { readonly kind: 'checked'; readonly id: number; readonly redisTables: readonly string[] }
  | { readonly kind: 'answer'; readonly id: number; readonly columns: readonly AnswerColumn[]; readonly rowCount: number; readonly stats: QueryStats }
  | { readonly kind: 'piece'; readonly id: number; readonly bytes: Uint8Array }
  | { readonly kind: 'end'; readonly id: number }
  /** The query is refused or failed (status and reason); `replace`: the worker's database is unusable. */
  | { readonly kind: 'refused'; readonly id: number; readonly statusCode: number; readonly error: string; readonly parameter?: string; readonly replace?: boolean };
