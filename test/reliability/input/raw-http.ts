import http from 'node:http';
import net from 'node:net';

/** What came back for one request: status 0 = no answer (connection error or timeout). */
export interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly error?: string;
}

export interface RawRequest {
  readonly method?: string;
  /** Sent exactly as given (no normalization of `..` or percent-escapes). */
  readonly path: string;
  readonly headers?: Record<string, string | string[]>;
  /** Exact bytes of the body (invalid UTF-8 included). */
  readonly body?: Buffer | string;
  /** Send the body chunked (no content-length). */
  readonly chunked?: boolean;
  readonly timeoutMs?: number;
}

/**
 * One HTTP request with node:http: the path and body bytes go on the wire as given, unlike
 * fetch (which normalizes paths and encodes strings).
 */
export function rawRequest(port: number, request: RawRequest, agent?: http.Agent): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
    const headers: Record<string, string | string[] | number> = { ...request.headers };
    if (body !== undefined && !request.chunked) headers['content-length'] = body.length;
    const req = http.request(
      { host: '127.0.0.1', port, method: request.method ?? 'GET', path: request.path, headers, agent: agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => resolve({ status: 0, headers: {}, body: '', error: err.message }));
      },
    );
    req.setTimeout(request.timeoutMs ?? 30_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, headers: {}, body: '', error: err.message }));
    if (body !== undefined && request.chunked) {
      // A few chunks, so the server sees a streamed body without a length.
      const step = Math.max(1, Math.ceil(body.length / 4));
      for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
    } else if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Writes raw bytes on a TCP connection (a request line, headers and a body that may lie about
 * its length) and resolves with whatever came back before the server closed or `waitMs` passed.
 */
export function rawSocket(port: number, bytes: Buffer | string, waitMs = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => socket.write(bytes));
  });
}

/**
 * One request on its own TCP connection, the answer read as it comes: for bodies over a server's
 * limit, which may answer (413) from the headers and close; node:http would report the failed
 * write (EPIPE) instead of the answer. The body follows only if no answer came within 2 s (a
 * loaded CI machine once took over 200 ms to answer, and the body written meanwhile reset the
 * connection before the 413 was read).
 */
export function rawSocketRequest(port: number, request: RawRequest): Promise<RawAnswer> {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
  const head = [`${request.method ?? 'POST'} ${request.path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', `Content-Length: ${body.length}`];
  for (const [name, value] of Object.entries(request.headers ?? {})) for (const v of [value].flat()) head.push(`${name}: ${v}`);
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const split = text.indexOf('\r\n\r\n');
      const headers: http.IncomingHttpHeaders = {};
      for (const line of text.slice(0, split).split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve(m ? { status: Number(m[1]), headers, body: split >= 0 ? text.slice(split + 4) : '' } : { status: 0, headers: {}, body: '', error: error ?? 'no answer' });
    };
    const timer = setTimeout(() => finish('timeout'), request.timeoutMs ?? 30_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => finish(err.message));
    socket.on('close', () => finish());
    socket.on('connect', () => {
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      // A server that judges by Content-Length answers now; writing on into a closed socket
      // would end in a reset that discards its answer (Node has no lingering close).
      setTimeout(() => {
        if (chunks.length > 0 || settled) return;
        const step = 64 * 1024;
        let at = 0;
        const pump = () => {
          while (at < body.length && chunks.length === 0 && !settled) {
            const ok = socket.write(body.subarray(at, at + step));
            at += step;
            if (!ok) return void socket.once('drain', pump);
          }
        };
        pump();
      }, 2_000);
    });
  });
}
