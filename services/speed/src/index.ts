export { SpeedLayer } from './speed-layer.js';
export type { SpeedLayerDeps } from './speed-layer.js';
export { buildPartitionCommit, speedKeyspace } from './partition-commit.js';
export type { PartitionMessage, PartitionCommit, PartitionCommitContext } from './partition-commit.js';
