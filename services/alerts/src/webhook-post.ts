import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { WebhookTarget } from '@sigflow/alerts';

/** What a webhook answered. */
export interface WebhookAnswer {
  readonly status: number;
}

/** A lookup that answers the address already checked, so the connection cannot be rebound to another. */
function pinned(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) (callback as unknown as (err: null, addresses: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/**
 * POSTs `body` to a checked target, connecting to its first checked address (TLS still verifies
 * the host name). Redirects are not followed (a 3xx is an answer like any other non-2xx: the
 * delivery failed). Resolves with the status once the answer is read (at most 64 KiB kept).
 */
export function postWebhook(target: WebhookTarget, body: string, headers: Record<string, string>, timeoutMs: number): Promise<WebhookAnswer> {
  const { url } = target;
  const first = target.addresses[0] as { address: string; family: 4 | 6 };
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers }, lookup: pinned(first.address, first.family), timeout: timeoutMs },
      (res) => {
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          kept += chunk.length;
          if (kept > 65_536) res.destroy();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
        res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
