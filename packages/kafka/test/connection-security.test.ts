import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@sigflow/config';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connectionSecurity } from '../src/connection-security.js';

// What the `@platformatic/kafka` clients get from the settings (test/deploy/kafka-sasl.test.ts
// runs them against a broker that requires SASL; TLS needs certificates it does not have).
describe('connectionSecurity', () => {
  it('is empty on a local broker', () => {
    expect(connectionSecurity(loadConfig({}).kafka)).toEqual({});
  });

  it('gives TLS with the configured CA and checks the host name, and SASL with the mechanism as the client names it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-ca-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const ca = path.join(dir, 'ca.pem');
    fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = loadConfig({
      SIGFLOW_KAFKA_SSL: 'true',
      SIGFLOW_KAFKA_SSL_CA_FILE: ca,
      SIGFLOW_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      SIGFLOW_KAFKA_SASL_USERNAME: 'sigflow',
      SIGFLOW_KAFKA_SASL_PASSWORD: 'secret',
    });
    expect(connectionSecurity(config.kafka)).toEqual({
      tls: { ca: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'] },
      tlsServerName: true,
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'sigflow', password: 'secret' },
    });
  });

  it("uses the system's CAs when none is configured, and names each mechanism", () => {
    const tlsOnly = loadConfig({ SIGFLOW_KAFKA_SSL: 'true' }).kafka;
    expect(connectionSecurity(tlsOnly)).toEqual({ tls: {}, tlsServerName: true });
    const mechanisms = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' };
    for (const [setting, name] of Object.entries(mechanisms)) {
      const config = loadConfig({ SIGFLOW_KAFKA_SASL_MECHANISM: setting, SIGFLOW_KAFKA_SASL_USERNAME: 'u', SIGFLOW_KAFKA_SASL_PASSWORD: 'p' }).kafka;
      expect(connectionSecurity(config).sasl?.mechanism).toBe(name);
    }
  });
});
