import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/group-commit.js';
import { KafkaUnavailableError } from '../src/errors.js';

interface Msg {
  readonly value: string;
}

/** A produce function whose calls the test completes by hand. */
function manualProduce() {
  const calls: { messages: string[]; resolve: () => void; reject: (err: Error) => void }[] = [];
  const produce = (messages: Msg[]) =>
    new Promise<void>((resolve, reject) => calls.push({ messages: messages.map((m) => m.value), resolve, reject }));
  return { calls, produce };
}

const msgs = (...values: string[]): Msg[] => values.map((value) => ({ value }));
const options = { timeoutMs: 10_000, maxQueuedMessages: 100, maxBatchBytes: 1_000, maxBatchMessages: 100 };
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('sends the first call alone and the calls that came meanwhile together, in order', async () => {
    const { calls, produce } = manualProduce();
    const group = new GroupCommit(produce, options);
    const first = group.send(msgs('a'));
    const rest = [group.send(msgs('b', 'c')), group.send(msgs('d'))];
    expect(calls.map((c) => c.messages)).toEqual([['a']]);
    calls[0]!.resolve();
    await first;
    await tick();
    expect(calls.map((c) => c.messages)).toEqual([['a'], ['b', 'c', 'd']]);
    calls[1]!.resolve();
    await Promise.all(rest);
  });

  it('keeps one produce under maxBatchBytes, taking whole calls (a larger call in parts, a larger message alone)', async () => {
    const { calls, produce } = manualProduce();
    const group = new GroupCommit(produce, { ...options, maxBatchBytes: 10 });
    const sends = [group.send(msgs('x')), group.send(msgs('aaaa', 'bbbb')), group.send(msgs('cccc')), group.send(msgs('d'.repeat(30), 'eeeeee', 'fffff', 'g'))];
    for (let i = 0; i < 6; i++) {
      calls[i]!.resolve();
      await tick();
    }
    await Promise.all(sends);
    // 'x'; then 8 bytes, + 4 would pass 10; then 'cccc' (+ 30 would pass 10); then the last
    // call in parts: the 30-byte message alone, 6 bytes (+ 5 would pass 10), 5 + 1.
    expect(calls.map((c) => c.messages)).toEqual([['x'], ['aaaa', 'bbbb'], ['cccc'], ['d'.repeat(30)], ['eeeeee'], ['fffff', 'g']]);
  });

  it('weighs a string by its UTF-8 bytes, not its length', async () => {
    const { calls, produce } = manualProduce();
    const group = new GroupCommit(produce, { ...options, maxBatchBytes: 10 });
    // 'é' is 2 bytes and '€' 3 in UTF-8 (1 unit each in a JS string): 4 + 6 bytes fit, + 3 do not.
    const sends = [group.send(msgs('x')), group.send(msgs('éé', '€€', '€'))];
    for (let i = 0; i < 3; i++) {
      calls[i]!.resolve();
      await tick();
    }
    await Promise.all(sends);
    expect(calls.map((c) => c.messages)).toEqual([['x'], ['éé', '€€'], ['€']]);
  });

  it('keeps one produce under maxBatchMessages, taking whole calls (a larger call in parts)', async () => {
    const { calls, produce } = manualProduce();
    const group = new GroupCommit(produce, { ...options, maxBatchMessages: 3 });
    const sends = [group.send(msgs('a')), group.send(msgs('b', 'c')), group.send(msgs('d')), group.send(msgs('e')), group.send(msgs('f', 'g', 'h', 'i'))];
    for (let i = 0; i < 5; i++) {
      calls[i]!.resolve();
      await tick();
    }
    await Promise.all(sends);
    // 'a'; then 3 messages, + 'e' would pass 3; then 'e' (+ the last call's first part of 3
    // would pass 3); then that part; then its rest.
    expect(calls.map((c) => c.messages)).toEqual([['a'], ['b', 'c', 'd'], ['e'], ['f', 'g', 'h'], ['i']]);
  });

  it('fails a call sent in parts when one of its parts is refused, after the parts before it went', async () => {
    const { calls, produce } = manualProduce();
    const group = new GroupCommit(produce, { ...options, maxBatchMessages: 2 });
    const send = group.send(msgs('a', 'b', 'c', 'd', 'e'));
    const failed = expect(send).rejects.toBeInstanceOf(KafkaUnavailableError);
    calls[0]!.resolve();
    await tick();
    calls[1]!.reject(new Error('MESSAGE_TOO_LARGE'));
    await tick();
    calls[2]!.resolve();
    await failed;
    expect(calls.map((c) => c.messages)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('fails every call of a refused produce with KafkaUnavailableError and carries on', async () => {
    const { calls, produce } = manualProduce();
    const group = new GroupCommit(produce, options);
    const first = group.send(msgs('a'));
    const second = group.send(msgs('b'));
    calls[0]!.reject(new Error('broker says no'));
    await expect(first).rejects.toThrow(KafkaUnavailableError);
    await expect(first).rejects.toThrow(/broker says no/);
    await tick();
    calls[1]!.resolve();
    await expect(second).resolves.toBeUndefined();
  });

  it("names what the broker said: the messages at the ends of the client's nested AggregateErrors", async () => {
    const { calls, produce } = manualProduce();
    const group = new GroupCommit(produce, options);
    const sent = group.send(msgs('a'));
    const perPartition = [new Error('MESSAGE_TOO_LARGE on events.v1-3'), new Error('NOT_LEADER_OR_FOLLOWER on events.v1-5')];
    calls[0]!.reject(new AggregateError([new AggregateError(perPartition, 'Received response with error')], 'Producing messages failed.'));
    await expect(sent).rejects.toThrow('Kafka refused the produce: Producing messages failed.: MESSAGE_TOO_LARGE on events.v1-3; NOT_LEADER_OR_FOLLOWER on events.v1-5');
  });

  it('fails a call not acknowledged in time, and refuses at once past the queue bound', async () => {
    const { produce } = manualProduce();
    const group = new GroupCommit(produce, { ...options, timeoutMs: 50, maxQueuedMessages: 3 });
    const waiting = group.send(msgs('a'));
    await expect(waiting).rejects.toThrow(/did not acknowledge within 50 ms/);
    expect(group.queuedMessages).toBe(0);
    await group.send(msgs('b', 'c')).catch(() => undefined);
    await expect(group.send(msgs('d', 'e'))).rejects.toThrow(/2 messages already wait/);
  });

  it('is idle once every queued send is produced, or when its bound runs out', async () => {
    const { calls, produce } = manualProduce();
    const group = new GroupCommit(produce, options);
    void group.send(msgs('a'));
    void group.send(msgs('b'));
    let idle = false;
    const waiting = group.idle(5_000).then(() => (idle = true));
    calls[0]!.resolve();
    await tick();
    expect(idle).toBe(false);
    calls[1]!.resolve();
    await waiting;
    expect(calls).toHaveLength(2);
    // Never answered: its timeout rejects it after the test, handled here.
    group.send(msgs('c')).catch(() => undefined);
    const started = Date.now();
    await group.idle(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});
