import type { OpsRecord } from '@sigflow/events';

/** What a writer of ops decisions needs: append them durably (an `OpsLog`). */
export interface OpsRecorder {
  record(records: readonly OpsRecord[]): Promise<void>;
}

/** Records nothing: for code run without Kafka (unit tests of routes and jobs). */
export const noOpsRecorder: OpsRecorder = { record: async () => undefined };
