import { ConfigError, type EnvReader } from './env.js';

/**
 * What a Segment `track` call becomes: a touchpoint or a conversion of the contract, a page
 * view, the custom type under its own name, or the custom type under another name.
 */
export type SegmentTarget =
  | { readonly type: 'impression' | 'click' | 'conversion' | 'page_view' | 'track' }
  | { readonly type: 'track'; readonly name: string };

/** Per site (of a write key): Segment event name -> target; names not listed use the default mapping. */
export type SegmentMappings = ReadonlyMap<string, ReadonlyMap<string, SegmentTarget>>;

const plainTargets = new Set(['impression', 'click', 'conversion', 'page_view', 'track']);

function targetOf(variable: string, site: string, event: string, value: unknown): SegmentTarget {
  if (typeof value === 'string' && plainTargets.has(value)) return { type: value as 'track' };
  if (typeof value === 'string' && /^track:[a-z0-9_.:-]{1,64}$/.test(value)) return { type: 'track', name: value.slice(6) };
  throw new ConfigError(
    variable,
    `site "${site}", event ${JSON.stringify(event)}: expected impression, click, conversion, page_view, track or track:<name> (name of 1-64 [a-z0-9_.:-]), got ${JSON.stringify(value)}`,
  );
}

/**
 * `SIGFLOW_COLLECTOR_SEGMENT_MAPPING`: a JSON object `{ "<site>": { "<Segment event>": "<target>" } }`
 * overriding, per write key's site, what a `track` call becomes (default: none overridden).
 */
export function segmentMappings(r: EnvReader, variable = 'SIGFLOW_COLLECTOR_SEGMENT_MAPPING'): SegmentMappings {
  const text = r.string(variable, '{}');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(variable, `not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(variable, 'expected a JSON object keyed by site');
  const sites = new Map<string, ReadonlyMap<string, SegmentTarget>>();
  for (const [site, events] of Object.entries(parsed)) {
    if (typeof events !== 'object' || events === null || Array.isArray(events)) throw new ConfigError(variable, `site "${site}": expected an object of event name -> target`);
    sites.set(site, new Map(Object.entries(events).map(([event, value]) => [event, targetOf(variable, site, event, value)])));
  }
  return sites;
}
