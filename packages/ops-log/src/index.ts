export { OpsLog } from './ops-log.js';
export type { OpsLogOptions, StoreLossHook } from './ops-log.js';
export type { OpsRecorder } from './ops-recorder.js';
export { noOpsRecorder } from './ops-recorder.js';
