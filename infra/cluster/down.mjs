// `npm run infra:cluster:down`: stops exactly the nodes `npm run infra:cluster` started (by
// their pid files under var/cluster); the single-node Redis and Kafka are not touched.
import path from 'node:path';
import { clusterDir } from './up.mjs';
import { stopKafkaCluster } from './kafka-cluster.mjs';
import { stopRedisCluster } from './redis-cluster.mjs';

const [kafka, redis] = await Promise.all([stopKafkaCluster({ dir: clusterDir }), stopRedisCluster({ dir: path.join(clusterDir, 'redis') })]);
console.log(`stopped ${kafka} Kafka node(s) and ${redis} Redis node(s) of the local cluster`);
