/**
 * The offset of the first JSON syntax error in `text` (or `text.length` when the input
 * ends too early). V8's messages carry no position for "Unexpected token" errors, so
 * this scanner finds it; it runs only after JSON.parse has failed (cold path).
 * Iterative (an explicit stack of open containers): a body nested a million levels deep
 * must not overflow the call stack.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  /** Scans a string from its opening quote; false at a syntax error (`i` on it). */
  const string = (): boolean => {
    i++; // opening quote
    while (i < text.length) {
      const ch = text.charCodeAt(i);
      if (ch === 0x22) {
        i++;
        return true;
      }
      if (ch < 0x20) return false;
      if (ch === 0x5c) {
        i++;
        if (text[i] === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) {
              i += k;
              return false;
            }
          }
          i += 5;
        } else if ('"\\/bfnrt'.includes(text[i] ?? '#')) i++;
        else return false;
      } else i++;
    }
    return false;
  };
  const literal = (word: string): boolean => {
    for (const ch of word) {
      if (text[i] !== ch) return false;
      i++;
    }
    return true;
  };
  const number = (): boolean => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0].length === 0) return false;
    i += m[0].length;
    return true;
  };
  /** Open containers: '{' or '['. */
  const stack: string[] = [];
  const fail = () => Math.min(i, text.length);
  for (;;) {
    // Expect a value.
    ws();
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      i++;
      ws();
      if (text[i] === (ch === '{' ? '}' : ']')) {
        i++; // empty container: a complete value
      } else {
        stack.push(ch);
        if (ch === '{') {
          if (text[i] !== '"' || !string()) return fail();
          ws();
          if (text[i] !== ':') return fail();
          i++;
        }
        continue;
      }
    } else if (ch === '"') {
      if (!string()) return fail();
    } else if (ch === 't' || ch === 'f' || ch === 'n') {
      if (!literal(ch === 't' ? 'true' : ch === 'f' ? 'false' : 'null')) return fail();
    } else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) {
      if (!number()) return fail();
    } else {
      return fail();
    }
    // A value ended: close containers, or go on to the next member.
    for (;;) {
      const open = stack.at(-1);
      if (open === undefined) {
        ws();
        return i < text.length ? fail() : text.length;
      }
      ws();
      if (text[i] === ',') {
        i++;
        if (open === '{') {
          ws();
          if (text[i] !== '"' || !string()) return fail();
          ws();
          if (text[i] !== ':') return fail();
          i++;
        }
        break;
      }
      if (text[i] === (open === '{' ? '}' : ']')) {
        i++;
        stack.pop();
        continue;
      }
      return fail();
    }
  }
}
