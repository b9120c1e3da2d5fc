export { SpeedLayer } from './speed-layer.js';
export type { SpeedLayerDeps } from './speed-layer.js';
