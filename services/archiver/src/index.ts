// The archiver service (for tests and embedding). The archive's format, which the batch layer
// reads too, is `@sigflow/archive`.
export { Archiver } from './archiver.js';
export type { ArchiverDeps } from './archiver.js';
