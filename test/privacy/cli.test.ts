// The ops CLI's privacy and retention commands, each run as `npm run jobs -- ...` runs it (a
// process of its own) against a real batch worker, to their end result: `delete-user` leaves no
// row of the person in the archive; `enforce-retention` removes the expired hour and only it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import type { ReceivedEvent } from '@sigflow/events';
import { ArchiveWriter, listArchiveHours } from '@sigflow/archive';
import { createBatchContext, startBatchWorker, type BatchWorker } from '@sigflow/batch';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { tombstoneHash } from '@sigflow/privacy';
import { createRedis, deleteKeysWithPrefix, StoreKeys } from '@sigflow/store';
import { hasTombstone } from '@sigflow/store/ops';
import { jobsCli as runJobsCli } from '../support/jobs-cli.js';
import { archiveMentions, archivedEvents } from './lib.js';

const HOUR = 3_600_000;
const id = randomUUID().slice(0, 8);
const PERSON = `cli-person-${id}`;
const now = Date.now();
const RECENT = now - (now % HOUR) - 2 * HOUR;
/** Three days old: past the two-day retention of this suite. */
const OLD = RECENT - 72 * HOUR;

describe('jobs delete-user and jobs enforce-retention', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-privacy-cli-'));
  const env: Record<string, string> = {
    SIGFLOW_REDIS_PREFIX: `t-privacy-cli-${id}`,
    SIGFLOW_ARCHIVE_DIR: dir,
    SIGFLOW_RETENTION_MS: String(48 * HOUR),
    SIGFLOW_PRIVACY_SPEED_WAIT_MS: '200',
    SIGFLOW_PRIVACY_ARCHIVE_SETTLE_MS: '100',
  };
  const config = loadConfig({ ...process.env, ...env });
  const redis = createRedis(config.redis);
  let worker: BatchWorker;

  const jobsCli = (...args: string[]) => runJobsCli(env, ...args);

  beforeAll(async () => {
    const writer = await ArchiveWriter.open({ root: dir });
    const events: ReceivedEvent[] = [];
    for (const h of [OLD, RECENT, RECENT + HOUR]) {
      for (const user of [PERSON, `other-a-${id}`, `other-b-${id}`]) {
        events.push({ event_id: `${h}-${user}-pv`, type: 'page_view', user_id: user, ts: h + 60_000, received_at: h + 60_100, page_id: 'home' });
      }
    }
    await writer.write(events.map((event, i) => ({ event, partition: 0, offset: String(i) })));
    await writer.close();
    worker = startBatchWorker({ context: createBatchContext(config, redis), registry: createMetricsRegistry('batch'), logger: createLogger('batch-test', 'silent') });
  });

  afterAll(async () => {
    await worker.close();
    await deleteKeysWithPrefix(redis, config.redis.keyPrefix);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a deletion without a valid id, before recording anything', async () => {
    expect((await jobsCli('delete-user')).code).toBe(2);
    const bad = await jobsCli('delete-user', '--user', 'tab\there');
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/userId must be 1-128 printable characters/);
    expect(await redis.zcard(new StoreKeys(config.redis.keyPrefix).tombstones())).toBe(0);
  });

  it('delete-user --wait deletes the person from the archive, and only them', async () => {
    const before = (await archivedEvents(dir)).map((e) => e.event.event_id).sort();
    const res = await jobsCli('delete-user', '--user', PERSON, '--wait');
    expect(res.out).toMatch(/deletion requested as del-[0-9a-f-]{36}/);
    expect(res.out).toMatch(/state completed/);
    expect(res.code).toBe(0);
    expect(await archiveMentions(dir, PERSON)).toEqual([]);
    expect((await archivedEvents(dir)).map((e) => e.event.event_id).sort()).toEqual(before.filter((e) => !e.includes(PERSON)));
    expect(await hasTombstone(redis, new StoreKeys(config.redis.keyPrefix), tombstoneHash(config.privacy.salt, PERSON))).toBe(true);
  });

  it('enforce-retention --wait removes the hour past the retention and keeps the others', async () => {
    expect(await listArchiveHours(dir)).toEqual([OLD, RECENT, RECENT + HOUR]);
    const res = await jobsCli('enforce-retention', '--wait');
    expect(res.out).toMatch(/state completed/);
    expect(res.code).toBe(0);
    expect(await listArchiveHours(dir)).toEqual([RECENT, RECENT + HOUR]);
  });
});
