// `npm run infra:cluster:down`: stops exactly the nodes `npm run infra:cluster` started (by
// their pid files under var/cluster); the single-node Redis and Kafka are not touched.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterDir } from './up.mjs';
import { stopKafkaCluster } from './kafka-cluster.mjs';
import { stopRedisCluster } from './redis-cluster.mjs';

/** Stops the local cluster's Kafka and Redis nodes; resolves with how many of each were stopped. */
export async function clusterDown() {
  const [kafka, redis] = await Promise.all([stopKafkaCluster({ dir: clusterDir }), stopRedisCluster({ dir: path.join(clusterDir, 'redis') })]);
  console.log(`stopped ${kafka} Kafka node(s) and ${redis} Redis node(s) of the local cluster`);
  return { kafka, redis };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await clusterDown();
