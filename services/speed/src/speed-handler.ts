import type { PartitionFetch, PartitionHandler, RoundAnswer } from '@sigflow/kafka/data-path';
import type { PartitionOwnership } from './partition-ownership.js';
import type { SpeedRound } from './speed-round.js';

/** The speed layer as the consumer sees it: partitions come and go (ownership), fetches become rounds. */
export class SpeedHandler implements PartitionHandler {
  constructor(
    private readonly ownership: PartitionOwnership,
    private readonly round: SpeedRound,
  ) {}

  assigned(partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    return this.ownership.assign(partitions);
  }

  revoked(partitions: readonly number[]): Promise<void> {
    return this.ownership.revoke(partitions);
  }

  async records(fetches: readonly PartitionFetch[]): Promise<RoundAnswer> {
    return { seeks: await this.round.run(fetches) };
  }

  /** A round that fetched nothing: the messages held back for alignment go now. */
  async idle(): Promise<RoundAnswer | void> {
    if (this.round.waiting()) return { seeks: await this.round.run([]) };
  }
}
