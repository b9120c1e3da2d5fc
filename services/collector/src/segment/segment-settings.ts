import type { FastifyRequest } from 'fastify';

/** A host as a `Host` header may name it (a name or an address, an optional port): nothing else is echoed. */
const plainHost = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * Where analytics.js should send: the configured public URL, else the scheme and host the
 * request came to (a `Host` that is not a plain host is not echoed: undefined).
 */
export function collectorBase(publicUrl: string | undefined, request: FastifyRequest): { protocol: string; host: string } | undefined {
  if (publicUrl !== undefined) {
    const url = new URL(publicUrl);
    return { protocol: url.protocol.slice(0, -1), host: `${url.host}${url.pathname.replace(/\/$/, '')}` };
  }
  const host = request.host;
  return plainHost.test(host) ? { protocol: request.protocol, host } : undefined;
}

/**
 * The settings analytics-next loads from `${cdnURL}/v1/projects/<writeKey>/settings`: only the
 * Segment.io destination, sending to this collector (`${protocol}://${apiHost}/<t|p|i|...>`), no
 * remote plugins, no middleware and no remote metrics.
 */
export function segmentSettings(writeKey: string, base: { protocol: string; host: string }) {
  return {
    integrations: {
      'Segment.io': {
        apiKey: writeKey,
        apiHost: `${base.host}/v1`,
        protocol: base.protocol,
        unbundledIntegrations: [],
        addBundledMetadata: false,
        retryQueue: true,
      },
    },
    plan: { track: { __default: { enabled: true, integrations: {} } }, identify: { __default: { enabled: true } }, group: { __default: { enabled: true } } },
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
    metrics: { sampleRate: 0 },
  };
}
