import { randomBytes } from 'node:crypto';
import { ArchiveStorageError } from '../errors.js';

/**
 * The replacements of one folder on object storage, where there is no rename. A folder's files
 * are the archiver's (under their final names, each put whole) and replacements: files written
 * by compaction or a person's erasure under a tagged name (`p0-1-500.<tag>.parquet`), invisible
 * until a manifest names them. A manifest (`_manifest/<n>.json`, the folder's n-th, put once
 * with `If-None-Match: *` and never changed) says which files it adds and which it removes; one
 * put publishes the whole set, so readers see the folder before it or after it, never both sets
 * nor neither.
 *
 * What a folder holds: the untagged files and the additions of the manifests, less their
 * removals. Manifests apply in the order of their numbers. A writer claims the number after the
 * last one it listed, and only once it has checked that its removals still hold against every
 * manifest before it (`conflictsWith`): two hosts that replace the same files at once (two
 * compactions of an hour, a compaction and an erasure) claim the same number, the server lets
 * one put win, and the other lists again, sees the winner took its files, and gives up. A number
 * is claimed only by a writer that listed the one before it, so there are no gaps: a manifest
 * never lands before one that already applied. An untagged name put again after its removal (an
 * archiver's replay of the same offsets) stays removed: the replacement holds its rows.
 */
export interface HourManifest {
  /** Files published by it, with when their content landed (the rewritten files' time). */
  readonly adds: readonly { readonly name: string; readonly landedAtMs: number; readonly bytes: number }[];
  /** Names it replaces. */
  readonly removes: readonly string[];
}

/** A manifest as listed: its object's name (`<n>.json`, zero-padded: the order manifests apply in) and what it says. */
export interface ListedManifest extends HourManifest {
  readonly name: string;
}

/** The subfolder of a folder holding its manifests. */
export const MANIFEST_FOLDER = '_manifest';

const tagged = /\.[0-9a-f]{8}\.parquet$/;

/** A fresh tag: 8 hex digits. */
export function newTag(): string {
  return randomBytes(4).toString('hex');
}

/** `name` with a tag before `.parquet` (a replacement's name; any tag it had is replaced). */
export function taggedName(name: string, tag: string): string {
  return `${name.replace(tagged, '.parquet').replace(/\.parquet$/, '')}.${tag}.parquet`;
}

/** True for a replacement's name (visible only through a manifest). */
export function isTaggedName(name: string): boolean {
  return tagged.test(name);
}

/** The name of a folder's `n`-th manifest (zero-padded, so names sort by number). */
export function manifestName(n: number): string {
  return `${String(n).padStart(15, '0')}.json`;
}

const numbered = /^(\d{15})\.json$/;

/** True for a manifest's object name (`<n>.json`). */
export function isManifestName(name: string): boolean {
  return numbered.test(name);
}

/** The number a new manifest claims: the one after the folder's last. */
export function nextManifestNumber(manifests: readonly ListedManifest[]): number {
  return manifests.reduce((n, m) => Math.max(n, Number(m.name.slice(0, 15)) + 1), 1);
}

/** What the manifests applied so far removed and added: the rule a next manifest is checked by. */
class AppliedSoFar {
  private readonly removed = new Set<string>();
  private readonly added = new Set<string>();

  /** What makes `removes` void now: a name removed already, or a replacement never added. Null when it holds. */
  conflict(removes: readonly string[]): string | null {
    return removes.find((r) => this.removed.has(r) || (isTaggedName(r) && !this.added.has(r))) ?? null;
  }

  apply(m: HourManifest): void {
    for (const r of m.removes) this.removed.add(r);
    for (const a of m.adds) this.added.add(a.name);
  }
}

/**
 * What makes `removes` void after `applied` (in order): a name an applied manifest removed
 * already, or a replacement no applied manifest added. Null when it still holds.
 */
export function conflictsWith(applied: readonly ListedManifest[], removes: readonly string[]): string | null {
  const soFar = new AppliedSoFar();
  for (const m of applied) soFar.apply(m);
  return soFar.conflict(removes);
}

/**
 * The manifests that apply, in name order. Each was put only after its writer checked it against
 * all before it, so all apply; one that conflicts with those before it (put by hand, or on a
 * server that ignored `If-None-Match`) is void and skipped.
 */
export function appliedManifests(manifests: readonly ListedManifest[]): ListedManifest[] {
  const soFar = new AppliedSoFar();
  const applied: ListedManifest[] = [];
  for (const m of [...manifests].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (soFar.conflict(m.removes) !== null) continue;
    soFar.apply(m);
    applied.push(m);
  }
  return applied;
}

/** Parses a manifest's bytes; a manifest that is not one is an error naming it (never skipped: it may hide or publish files). */
export function parseManifest(key: string, text: string): HourManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ArchiveStorageError(`manifest ${key} is not JSON`);
  }
  const m = value as Partial<HourManifest> | null;
  const addsOk = Array.isArray(m?.adds) && m.adds.every((a) => typeof a?.name === 'string' && isTaggedName(a.name) && Number.isFinite(a.landedAtMs) && Number.isFinite(a.bytes));
  const removesOk = Array.isArray(m?.removes) && m.removes.every((r) => typeof r === 'string' && r.endsWith('.parquet') && !r.includes('/'));
  if (!addsOk || !removesOk) throw new ArchiveStorageError(`manifest ${key} is not a manifest (adds of tagged .parquet names with landedAtMs and bytes, removes of names)`);
  return m as HourManifest;
}

/** An object listed in a folder: its name and what the listing says of it. */
export interface ListedObject {
  readonly name: string;
  readonly bytes: number;
  readonly lastModifiedMs: number;
}

/** A file of the folder as readers see it. */
export interface VisibleFile {
  readonly name: string;
  readonly bytes: number;
  readonly landedAtMs: number;
}

/** When an object put under its final name landed: its listed time rounded up to the next second. */
export function landedAtOfListed(lastModifiedMs: number): number {
  return Math.floor(lastModifiedMs / 1000) * 1000 + 1000;
}

/**
 * The files readers see in a folder: its listed untagged objects and every manifest's additions,
 * less every removal, sorted by name. The data objects must be listed before the manifests
 * (`S3ArchiveStorage.folderState`): a manifest the second listing sees was put after its
 * additions, so they are taken from it even when the first listing missed them; a manifest it
 * does not see was not put when the first listing ran, so that listing still held what the
 * manifest removes (the sweep deletes only after the manifest). Readers get the folder before a
 * replacement or after it, never both sets nor neither. An untagged object landed when it was
 * put: its listed time rounded up to the next second (listings give whole seconds, and counting
 * a file late costs a recompute, counting it early a missed one).
 */
export function visibleFiles(objects: readonly ListedObject[], listed: readonly ListedManifest[]): VisibleFile[] {
  const manifests = appliedManifests(listed);
  const removed = new Set(manifests.flatMap((m) => m.removes));
  const visible: VisibleFile[] = objects
    .filter((o) => !isTaggedName(o.name) && !removed.has(o.name))
    .map((o) => ({ name: o.name, bytes: o.bytes, landedAtMs: landedAtOfListed(o.lastModifiedMs) }));
  for (const add of manifests.flatMap((m) => m.adds)) {
    if (!removed.has(add.name)) visible.push({ name: add.name, bytes: add.bytes, landedAtMs: add.landedAtMs });
  }
  return visible.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * What a folder's sweep may delete: objects an applied manifest removed, and replacements no
 * applied manifest added (of void manifests, or orphans) that were put more than `orphanAgeMs` before `now` (a compaction or erasure that died
 * before its manifest; a younger one may be one whose manifest is being written).
 */
export function sweepable(objects: readonly ListedObject[], listed: readonly ListedManifest[], now: number, orphanAgeMs: number): string[] {
  const manifests = appliedManifests(listed);
  const removed = new Set(manifests.flatMap((m) => m.removes));
  const added = new Set(manifests.flatMap((m) => m.adds.map((a) => a.name)));
  return objects
    .filter((o) => removed.has(o.name) || (isTaggedName(o.name) && !added.has(o.name) && o.lastModifiedMs < now - orphanAgeMs))
    .map((o) => o.name);
}
