// What the network rows share: what a row leaves behind, a broker reached through a link, and
// the speed views' tally after a fault.
import fs from 'node:fs';
import type { Scenario } from '../../support/scenario.js';
import type { RowDraft } from '../faults/lib/fault-run.js';
import { OwnKafka } from '../faults/lib/servers.js';
import type { Sent } from '../faults/lib/traffic.js';
import { speedTally, waitSpeedCaughtUp } from '../faults/lib/views.js';
import { FaultyLink } from './faulty-link.js';

/** What a row leaves for afterAll to remove (also when it fails). */
export interface Left {
  scenario?: Scenario;
  link?: FaultyLink;
  broker?: OwnKafka;
  archiveDir?: string;
}

export async function removeLeft(left: Left): Promise<void> {
  left.link?.heal();
  await left.scenario?.tearDown();
  await left.link?.close();
  await left.broker?.destroy();
  if (left.archiveDir) fs.rmSync(left.archiveDir, { recursive: true, force: true });
}

/**
 * A Kafka broker of the test's own with a listener advertised at a FaultyLink's port: a service
 * bootstrapped at `127.0.0.1:<link.port>` reaches the broker only through the link.
 */
export async function kafkaBehindLink(left: Left): Promise<{ broker: OwnKafka; link: FaultyLink }> {
  const holder: { broker?: OwnKafka } = {};
  const link = await FaultyLink.open(() => ({ host: '127.0.0.1', port: holder.broker?.proxied?.port ?? 0 }));
  left.link = link;
  const broker = await OwnKafka.start({ proxiedAt: link.port });
  holder.broker = broker;
  left.broker = broker;
  return { broker, link };
}

/**
 * Waits for the speed layer to catch up (`caughtUpMs`: since `since`, the heal), then fills the
 * row from its views against the truth.
 */
export async function speedRow(s: Scenario, sent: Sent, row: RowDraft, since: number) {
  await waitSpeedCaughtUp(s, 120_000);
  const caughtUpMs = Date.now() - since;
  const views = await speedTally(s, sent.truth);
  Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: views.served, lost: views.lost, doubleCounted: views.doubleCounted });
  return { views, caughtUpMs };
}
