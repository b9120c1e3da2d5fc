import fs from 'node:fs';
import type { KafkaConfig } from '@sigflow/config';

/** The PEM of the configured CA (`SIGFLOW_KAFKA_SSL_CA_FILE`), or undefined for the system's CAs. */
export function caOf(config: KafkaConfig): string[] | undefined {
  return config.sslCaFile === '' ? undefined : [fs.readFileSync(config.sslCaFile, 'utf8')];
}

/** A SASL mechanism as `@platformatic/kafka` names it. */
const platformaticMechanisms = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/**
 * TLS and SASL of a connection as `@platformatic/kafka`'s clients and connection pools take
 * them (the collector's producer, the speed layer's and archiver's consumers, the generator's
 * sink). Plain data, so a worker thread can be given it. Empty on a local broker.
 */
export interface ConnectionSecurity {
  /** TLS, with the configured CA (else the system's); the broker's host name is checked (SNI). */
  readonly tls?: { readonly ca?: string[] };
  readonly tlsServerName?: true;
  readonly sasl?: { readonly mechanism: (typeof platformaticMechanisms)[keyof typeof platformaticMechanisms]; readonly username: string; readonly password: string };
}

/** The configured TLS and SASL as {@link ConnectionSecurity}. */
export function connectionSecurity(config: KafkaConfig): ConnectionSecurity {
  const ca = caOf(config);
  const tls = config.ssl ? { tls: ca === undefined ? {} : { ca }, tlsServerName: true as const } : {};
  const sasl = config.sasl === null ? {} : { sasl: { ...config.sasl, mechanism: platformaticMechanisms[config.sasl.mechanism] } };
  return { ...tls, ...sasl };
}
