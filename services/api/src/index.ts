// The serving API's face: build it (tests and embedding listen on it). Tests of its parts
// import their modules directly.
export { buildApi } from './app.js';
export type { ApiDeps } from './app.js';
