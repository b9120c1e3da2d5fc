export { buildCollector } from './app.js';
export type { CollectorDeps } from './app.js';
export type { EventSink } from './routes/ingest-route.js';
