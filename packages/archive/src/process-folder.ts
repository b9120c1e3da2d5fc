import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the `<host>--<pid>--<id>` folders under `base` of this host's processes that are gone. */
async function removeDeadFolders(base: string): Promise<void> {
  const host = os.hostname();
  for (const name of await fs.readdir(base)) {
    const parts = name.split('--');
    if (parts.length < 3) continue;
    const pid = Number(parts.at(-2));
    if (parts.slice(0, -2).join('--') !== host || !Number.isInteger(pid) || pid === process.pid) continue;
    if (!isAlive(pid)) await fs.rm(path.join(base, name), { recursive: true, force: true });
  }
}

/**
 * A new folder of this process under `base`, `<host>--<pid>--<random>` (staging, a file cache),
 * made after removing those of this host's processes that died without removing theirs (a
 * kill -9). Several hosts may share `base`: only this host's folders are looked at.
 */
export async function openProcessFolder(base: string): Promise<string> {
  await fs.mkdir(base, { recursive: true });
  await removeDeadFolders(base);
  const dir = path.join(base, `${os.hostname()}--${process.pid}--${randomUUID().slice(0, 8)}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}
