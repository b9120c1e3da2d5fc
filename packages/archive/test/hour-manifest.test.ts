import { describe, expect, it } from 'vitest';
import { appliedManifests, conflictsWith, nextManifestNumber, sweepable, visibleFiles, type ListedManifest, type ListedObject } from '../src/storage/hour-manifest.js';

const object = (name: string, lastModifiedMs = 10_500): ListedObject => ({ name, bytes: 7, lastModifiedMs });
const manifest = (name: string, removes: string[], adds: string[]): ListedManifest => ({ name, removes, adds: adds.map((a) => ({ name: a, landedAtMs: 1_000, bytes: 3 })) });

// Which files of a folder readers see on S3: untagged objects and the additions of the manifests
// that apply, in number order, less their removals; a manifest that replaces what an earlier one
// replaced is void (a writer checks that before it claims its number).
describe('hour manifests', () => {
  const compactA = manifest('000000000000001.json', ['p0-0-1.parquet', 'p0-2-2.parquet'], ['p0-0-2.aaaaaaaa.parquet']);
  const compactB = manifest('000000000000002.json', ['p0-0-1.parquet', 'p0-2-2.parquet'], ['p0-0-2.bbbbbbbb.parquet']);
  const eraseAfterA = manifest('000000000000003.json', ['p0-0-2.aaaaaaaa.parquet'], ['p0-0-2.cccccccc.parquet']);
  const eraseOfB = manifest('000000000000004.json', ['p0-0-2.bbbbbbbb.parquet'], ['p0-0-2.dddddddd.parquet']);

  it('the first of two manifests replacing the same files applies; what builds on the void one is void too', () => {
    expect(appliedManifests([eraseOfB, compactB, eraseAfterA, compactA]).map((m) => m.name)).toEqual([compactA.name, eraseAfterA.name]);
  });

  it('visible: untagged objects not removed, and the applied additions (listed or not), sorted', () => {
    const objects = [object('p0-0-1.parquet'), object('p0-2-2.parquet'), object('p1-0-9.parquet', 12_000), object('p0-0-2.bbbbbbbb.parquet')];
    expect(visibleFiles(objects, [compactB, compactA])).toEqual([
      { name: 'p0-0-2.aaaaaaaa.parquet', bytes: 3, landedAtMs: 1_000 },
      { name: 'p1-0-9.parquet', bytes: 7, landedAtMs: 13_000 },
    ]);
    // Before any manifest: the archiver's files, landed at their listed second rounded up.
    expect(visibleFiles(objects, []).map((f) => [f.name, f.landedAtMs])).toEqual([
      ['p0-0-1.parquet', 11_000],
      ['p0-2-2.parquet', 11_000],
      ['p1-0-9.parquet', 13_000],
    ]);
  });

  it('sweepable: what applied manifests removed, and replacements no applied manifest added once older than the orphan age', () => {
    const objects = [object('p0-0-1.parquet'), object('p0-0-2.aaaaaaaa.parquet'), object('p0-0-2.bbbbbbbb.parquet', 1_000), object('p9-0-0.eeeeeeee.parquet', 9_000)];
    expect(sweepable(objects, [compactA, compactB], 10_000, 5_000)).toEqual(['p0-0-1.parquet', 'p0-0-2.bbbbbbbb.parquet']);
    expect(sweepable(objects, [compactA, compactB], 20_000, 5_000)).toEqual(['p0-0-1.parquet', 'p0-0-2.bbbbbbbb.parquet', 'p9-0-0.eeeeeeee.parquet']);
  });

  it('a new manifest claims the number after the last; with none, the first', () => {
    expect(nextManifestNumber([compactB, compactA])).toBe(3);
    expect(nextManifestNumber([])).toBe(1);
  });

  it('a replacement conflicts with what applied before it: a name removed already, or a replacement never added', () => {
    expect(conflictsWith([compactA], ['p0-2-2.parquet'])).toBe('p0-2-2.parquet');
    expect(conflictsWith([compactA], ['p0-0-2.aaaaaaaa.parquet', 'p1-0-9.parquet'])).toBeNull();
    expect(conflictsWith([compactA], ['p0-0-2.bbbbbbbb.parquet'])).toBe('p0-0-2.bbbbbbbb.parquet');
    expect(conflictsWith([], ['p0-0-1.parquet'])).toBeNull();
  });
});
