import { describe, expect, it } from 'vitest';
import { causeCampaign, causeName, parseCause } from '../src/index.js';
import { type ReconciliationCause } from '../src/views/reconciliation-causes.js';

// The stored names, written by hand: Redis hashes and the quality view's Parquet files hold them.
const stored: [ReconciliationCause, string][] = [
  [{ kind: 'duplicates' }, 'duplicates'],
  [{ kind: 'invalid', reason: 'too_fast' }, 'invalid:too_fast'],
  [{ kind: 'late', eventType: 'click' }, 'late_click'],
  [{ kind: 'late', eventType: 'page_view' }, 'late_page_view'],
  [{ kind: 'shapley', version: 'none' }, 'shapley:none'],
  [{ kind: 'shapley', version: '3' }, 'shapley:3'],
  [{ kind: 'signals_corrected', what: 'duplicate' }, 'signals_corrected:duplicate'],
];

describe('reconciliation causes', () => {
  it.each(stored)('%o is stored as %s and read back', (cause, name) => {
    expect(causeName(cause)).toBe(name);
    expect(parseCause(name)).toEqual(cause);
  });

  it('keeps a name it does not know, and a prefix without a value, as other', () => {
    expect(parseCause('retries')).toEqual({ kind: 'other', name: 'retries' });
    expect(parseCause('invalid:')).toEqual({ kind: 'other', name: 'invalid:' });
    expect(causeName({ kind: 'other', name: 'retries' })).toBe('retries');
  });

  it('records touchpoints under their campaign and every other event under *', () => {
    expect(causeCampaign({ type: 'click', campaign_id: 'c-7' })).toBe('c-7');
    expect(causeCampaign({ type: 'impression', campaign_id: 'c-1' })).toBe('c-1');
    expect(causeCampaign({ type: 'conversion', campaign_id: 'c-7' })).toBe('*');
    expect(causeCampaign({ type: 'track' })).toBe('*');
  });
});
