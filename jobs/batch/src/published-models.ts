import type { RedisClient, StoreKeys } from '@sigflow/store';
import { readMarkovModel } from '@sigflow/store/batch';
import { parseShapleyTable, type MarkovModel, type ShapleyTable } from '@sigflow/core';

/** The attribution models a recompute applies. */
export interface AttributionModels {
  /** The Shapley table the speed layer applies now (null: none published: equal split). */
  readonly shapley: ShapleyTable | null;
  readonly markov: MarkovModel | null;
  readonly markovVersion: string | null;
}

/**
 * The published Shapley table and Markov model. The recompute applies the same table the speed
 * layer is applying, so on in-order data both layers credit alike; a difference caused by a
 * retraining shows up in the reconciliation as the table version.
 */
export async function loadPublishedModels(redis: RedisClient, keys: StoreKeys): Promise<AttributionModels> {
  const [tableJson, markov] = await Promise.all([redis.get(keys.shapleyTable()), readMarkovModel(redis, keys)]);
  return {
    shapley: tableJson === null ? null : parseShapleyTable(JSON.parse(tableJson)),
    markov: markov?.model ?? null,
    markovVersion: markov?.version ?? null,
  };
}
