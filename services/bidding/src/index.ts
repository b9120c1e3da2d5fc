// The bidding service runs as its own process (main.ts); tests drive the class directly.
export { BiddingService } from './bidding-service.js';
export type { BiddingServiceDeps } from './bidding-service.js';
