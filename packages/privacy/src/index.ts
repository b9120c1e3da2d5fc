// Personal data handling shared by the services: tombstone hashes (Node and DuckDB), the
// tombstone set each service keeps, IP truncation and the flood rule's IP key.
export { tombstoneHash, tombstoneHashSql } from './tombstone-hash.js';
export { truncateIp, ipKey } from './ip-privacy.js';
export type { IpMode } from './ip-privacy.js';
export { TombstoneSet } from './tombstone-set.js';
export { privatizeIp } from './privatize-ip.js';
