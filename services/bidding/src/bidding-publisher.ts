import type { RedisClient, StoreKeys } from '@sigflow/store';
import { readPublishedMarks, writePublishedMarks, type PublishedMark } from '@sigflow/store/bidding';
import type { EventProducer } from '@sigflow/kafka';
import type { BiddingAnswer, BiddingMessage } from '@sigflow/serving';

/** What a message is about: the status and each channel's multiplier. */
interface Decision {
  readonly status: string;
  readonly multipliers: Record<string, number>;
}

function decisionOf(answer: BiddingAnswer): Decision {
  return { status: answer.status, multipliers: Object.fromEntries(answer.channels.map((c) => [c.channel, c.multiplier])) };
}

/** What differs: `status`, `multiplier:<channel>` (a channel that appeared or went counts too). */
function changes(before: Decision | null, after: Decision): string[] {
  const changed: string[] = [];
  if (before?.status !== after.status) changed.push('status');
  for (const channel of new Set([...Object.keys(before?.multipliers ?? {}), ...Object.keys(after.multipliers)])) {
    if (before?.multipliers[channel] !== after.multipliers[channel]) changed.push(`multiplier:${channel}`);
  }
  return changed;
}

function parseDecision(signature: string): Decision | null {
  try {
    return JSON.parse(signature) as Decision;
  } catch {
    return null;
  }
}

/**
 * Publishes a campaign's answer to `bidding.v1` (key = campaign id) when its status or a
 * multiplier changed since the last message, at most once per `intervalMs` per campaign (a
 * change inside the interval goes out with a later round, as what it is by then). What was last
 * published is kept in Redis after Kafka acknowledged it, so an instance taking over the lease
 * publishes only what changed; a crash between the two repeats a message (at least once).
 */
export class BiddingPublisher {
  private marks: Map<string, PublishedMark> | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    private readonly producer: EventProducer,
    private readonly intervalMs: number,
  ) {}

  /** Forgets what it knew (the lease moved): the next round reads the marks again. */
  reset(): void {
    this.marks = null;
  }

  /** Publishes the changed answers of a round; returns how many went out and how many wait. */
  async publish(answers: ReadonlyMap<string, BiddingAnswer>, now: number): Promise<{ sent: number; deferred: number }> {
    this.marks ??= await readPublishedMarks(this.redis, this.keys);
    const messages: { key: string; value: string }[] = [];
    const marked = new Map<string, PublishedMark>();
    let deferred = 0;
    for (const [campaignId, answer] of answers) {
      const decision = decisionOf(answer);
      const signature = JSON.stringify(decision);
      const mark = this.marks.get(campaignId);
      if (mark?.signature === signature) continue;
      if (mark && now - mark.at < this.intervalMs) {
        deferred++;
        continue;
      }
      const previous = mark ? parseDecision(mark.signature) : null;
      const message: BiddingMessage = { ...answer, changed: changes(previous, decision), previous };
      messages.push({ key: campaignId, value: JSON.stringify(message) });
      marked.set(campaignId, { signature, at: now });
    }
    if (messages.length === 0) return { sent: 0, deferred };
    await this.producer.send(messages);
    await writePublishedMarks(this.redis, this.keys, marked);
    for (const [id, mark] of marked) this.marks.set(id, mark);
    return { sent: messages.length, deferred };
  }
}
