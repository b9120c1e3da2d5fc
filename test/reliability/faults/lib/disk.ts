// Disk faults for the archive folder: a small tmpfs that the test fills up (disk full), or, where
// mounting is not allowed, the folder made immutable with chattr (read-only even for root).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type DiskFaultKind = 'tmpfs-full' | 'read-only';

export class ArchiveDiskFault {
  private filler: string | undefined;
  private immutable = false;

  private constructor(
    readonly dir: string,
    readonly kind: DiskFaultKind,
  ) {}

  /** Prepares `dir` (empty): mounts a tmpfs of `sizeMb` on it, else falls back to chattr; undefined when neither works. */
  static prepare(dir: string, sizeMb = 32): ArchiveDiskFault | undefined {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'ignore' });
      return new ArchiveDiskFault(dir, 'tmpfs-full');
    } catch {
      // not allowed here
    }
    try {
      const probe = path.join(dir, '.chattr-probe');
      fs.writeFileSync(probe, '');
      execFileSync('chattr', ['+i', probe], { stdio: 'ignore' });
      execFileSync('chattr', ['-i', probe], { stdio: 'ignore' });
      fs.rmSync(probe);
      return new ArchiveDiskFault(dir, 'read-only');
    } catch {
      return undefined;
    }
  }

  /** Bytes still free on the folder's filesystem. */
  freeBytes(): number {
    const s = fs.statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  /**
   * Injects the fault: fills the tmpfs, leaving `keepBytes` free (so the next write fails
   * half-way, not at its first byte), or makes every folder immutable.
   */
  inject(keepBytes = 0): void {
    if (this.kind === 'tmpfs-full') {
      this.filler = path.join(this.dir, 'filler.bin');
      const fd = fs.openSync(this.filler, 'w');
      try {
        const chunk = Buffer.alloc(1024 * 1024);
        for (;;) {
          const free = this.freeBytes() - keepBytes;
          if (free <= 0) break;
          fs.writeSync(fd, chunk, 0, Math.min(chunk.length, free));
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        fs.closeSync(fd);
      }
    } else {
      execFileSync('chattr', ['-R', '+i', this.dir], { stdio: 'ignore' });
      this.immutable = true;
    }
  }

  /** Ends the fault: frees the space, or makes the folders writable again. */
  clear(): void {
    if (this.filler) fs.rmSync(this.filler, { force: true });
    this.filler = undefined;
    if (this.immutable) execFileSync('chattr', ['-R', '-i', this.dir], { stdio: 'ignore' });
    this.immutable = false;
  }

  /** Clears the fault and unmounts the tmpfs (its files go with it). */
  dispose(): void {
    try {
      this.clear();
    } finally {
      if (this.kind === 'tmpfs-full') execFileSync('umount', ['-l', this.dir], { stdio: 'ignore' });
    }
  }
}
