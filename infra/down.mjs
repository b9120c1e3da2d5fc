// Stops exactly the servers this project started (by their pid files); a Redis, Kafka or S3
// that was already running before is left alone.
import fs from 'node:fs';
import path from 'node:path';
import { stopKafkaBroker } from './kafka/broker.mjs';
import { stopRedisServer } from './redis/redis.mjs';
import { stopS3Proxy } from './s3proxy/s3proxy.mjs';
import { varDir } from './lib/process.mjs';

console.log((await stopS3Proxy()) ? 'S3Proxy stopped' : 'no S3Proxy of ours was running');
const stoppedKafka = await stopKafkaBroker();
console.log(stoppedKafka ? 'Kafka broker stopped' : 'no Kafka broker of ours was running');
for (const entry of fs.existsSync(varDir) ? fs.readdirSync(varDir) : []) {
  if (entry.startsWith('redis-') && (await stopRedisServer({ dir: path.join(varDir, entry) }))) {
    console.log(`redis-server (${entry}) stopped`);
  }
}
