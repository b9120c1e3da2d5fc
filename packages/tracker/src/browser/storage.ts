/**
 * First-party storage: localStorage, with a cookie as the fallback where localStorage is
 * unavailable (privacy modes, sandboxed frames). Every access is guarded: storage never breaks
 * the page.
 */

const COOKIE_DAYS = 395;

function readCookie(name: string): string | null {
  try {
    for (const part of document.cookie.split('; ')) {
      const eq = part.indexOf('=');
      if (part.slice(0, eq) === name) return decodeURIComponent(part.slice(eq + 1));
    }
  } catch {
    // cookies unavailable
  }
  return null;
}

function writeCookie(name: string, value: string | null): void {
  try {
    const age = value === null ? 0 : COOKIE_DAYS * 86_400;
    document.cookie = `${name}=${encodeURIComponent(value ?? '')}; max-age=${age}; path=/; SameSite=Lax`;
  } catch {
    // cookies unavailable
  }
}

/** The stored value of `name`, or null. */
export function load(name: string): string | null {
  try {
    const v = localStorage.getItem(name);
    if (v !== null) return v;
  } catch {
    // localStorage unavailable: fall back to the cookie
  }
  return readCookie(name);
}

/**
 * Stores `value` under `name` (null removes it). `cookie`: also as a first-party cookie (small
 * values only: ids and flags, never the queue).
 */
export function save(name: string, value: string | null, cookie = true): void {
  try {
    if (value === null) localStorage.removeItem(name);
    else localStorage.setItem(name, value);
  } catch {
    // localStorage unavailable or full
  }
  if (cookie) writeCookie(name, value);
}

/** A random id: 32 hex digits from the browser's CSPRNG (Math.random only where there is none). */
export function randomId(): string {
  const bytes = new Uint8Array(16);
  if (typeof crypto !== 'undefined' && crypto.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  let hex = '';
  for (const b of bytes) hex += (b < 16 ? '0' : '') + b.toString(16);
  return hex;
}
