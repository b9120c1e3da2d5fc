export { buildApi } from './app.js';
export type { ApiDeps } from './app.js';
export { KeyRing, presentedKey, roleAllows } from './auth/api-keys.js';
export { parseTime, parseRange } from './http/params.js';
