// The ops topic against a real broker: what is appended is read back, the latest record of each
// key in the order written, whatever else the topic holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpsRecord } from '@sigflow/events';
import { deleteTopics, ensureTopics, EventProducer, OpsTopic } from '../src/index.js';
import { suiteKafka } from './fixture.js';

describe('ops topic', () => {
  const { kafka, topics } = suiteKafka('ops');
  let ops: OpsTopic;
  beforeAll(async () => {
    await ensureTopics(kafka, topics, { eventPartitions: 1 });
    ops = new OpsTopic(kafka, topics.ops);
  });
  afterAll(async () => {
    await ops.close();
    await deleteTopics(kafka, Object.values(topics));
  });

  it('reads nothing from an empty topic, then the latest record of each key', async () => {
    expect(await ops.readLatest()).toEqual([]);
    const budget = (at: number, micros: number): OpsRecord => ({ kind: 'budget', id: 'c1', at, value: { dailyBudgetMicros: micros } });
    await ops.append([budget(1, 100), { kind: 'segment', id: 'engaged', at: 2, value: { rule: 'r1' } }]);
    await ops.append([budget(3, 300), { kind: 'segment', id: 'engaged', at: 4, value: null }, { kind: 'tombstone', id: 'h1', at: 5, value: { at: 5 } }]);
    // Something that is not an ops record is skipped.
    const stray = new EventProducer(kafka, topics.ops);
    await stray.connect();
    await stray.send([{ key: 'x', value: 'not json' }]);
    await stray.disconnect();
    expect(await ops.readLatest()).toEqual([budget(3, 300), { kind: 'segment', id: 'engaged', at: 4, value: null }, { kind: 'tombstone', id: 'h1', at: 5, value: { at: 5 } }]);
  });
});
