// Unit tests of the KAFKA_* environment parsing: no broker is contacted.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_FETCH, fetchSettingsFromEnv, kafkaConfigFromEnv } from './kafkaConfig';
import { ConfigError } from './configError';

describe('kafkaConfigFromEnv', () => {
  it('defaults to the local broker without SASL or SSL', () => {
    expect(kafkaConfigFromEnv({})).toEqual({ brokers: ['127.0.0.1:9092'], clientId: 'streamgraph' });
  });

  it('splits and trims the broker list, ignoring blank entries', () => {
    const config = kafkaConfigFromEnv({ KAFKA_BROKERS: ' a:9092, b.example.com:19092 ,,[::1]:9093', KAFKA_CLIENT_ID: 'orders' });
    expect(config.brokers).toEqual(['a:9092', 'b.example.com:19092', '[::1]:9093']);
    expect(config.clientId).toBe('orders');
  });

  it('treats a blank variable as unset', () => {
    expect(kafkaConfigFromEnv({ KAFKA_BROKERS: '  ', KAFKA_SASL_MECHANISM: '' }).brokers).toEqual(['127.0.0.1:9092']);
  });

  it.each(['localhost', 'a:notaport', 'a:0', 'a:70000', 'http://a:9092'])('rejects broker %p', (broker) => {
    expect(() => kafkaConfigFromEnv({ KAFKA_BROKERS: broker })).toThrow(ConfigError);
    expect(() => kafkaConfigFromEnv({ KAFKA_BROKERS: broker })).toThrow(/KAFKA_BROKERS entry .* is not host:port/);
  });

  it('rejects a list with only separators', () => {
    expect(() => kafkaConfigFromEnv({ KAFKA_BROKERS: ',,' })).toThrow(/KAFKA_BROKERS is empty/);
  });

  it.each(['plain', 'scram-sha-256', 'SCRAM-SHA-512'])('accepts SASL mechanism %p', (mechanism) => {
    const config = kafkaConfigFromEnv({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: ' p ' });
    expect(config.sasl).toEqual({ mechanism: mechanism.toLowerCase(), username: 'u', password: ' p ' });
  });

  it('rejects an unknown SASL mechanism, naming the supported ones', () => {
    expect(() => kafkaConfigFromEnv({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toThrow(
      'KAFKA_SASL_MECHANISM="gssapi" is not supported; use one of plain, scram-sha-256, scram-sha-512',
    );
  });

  it('rejects a SASL mechanism without credentials', () => {
    expect(() => kafkaConfigFromEnv({ KAFKA_SASL_MECHANISM: 'plain' })).toThrow('KAFKA_SASL_MECHANISM=plain needs KAFKA_SASL_USERNAME; set it');
    expect(() => kafkaConfigFromEnv({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' })).toThrow(/needs KAFKA_SASL_PASSWORD/);
  });

  it('rejects credentials without a mechanism', () => {
    expect(() => kafkaConfigFromEnv({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toThrow(
      /KAFKA_SASL_USERNAME is set but KAFKA_SASL_MECHANISM is not/,
    );
  });

  it('enables plain SSL with KAFKA_SSL=true and disables it with false', () => {
    expect(kafkaConfigFromEnv({ KAFKA_SSL: 'true' }).ssl).toBe(true);
    expect(kafkaConfigFromEnv({ KAFKA_SSL: 'false' }).ssl).toBe(false);
    expect(kafkaConfigFromEnv({}).ssl).toBeUndefined();
  });

  it('rejects a non-boolean KAFKA_SSL', () => {
    expect(() => kafkaConfigFromEnv({ KAFKA_SSL: 'maybe' })).toThrow('KAFKA_SSL="maybe" is not a boolean; set it to true or false');
  });

  it('can turn off certificate verification explicitly', () => {
    expect(kafkaConfigFromEnv({ KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' }).ssl).toEqual({ rejectUnauthorized: false });
  });

  it('refuses SSL settings while SSL is off, instead of connecting in plaintext', () => {
    expect(() => kafkaConfigFromEnv({ KAFKA_SSL_CA_FILE: '/ca.pem' })).toThrow(
      'KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true; set KAFKA_SSL=true or unset KAFKA_SSL_CA_FILE',
    );
  });

  describe('with certificate files', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-config-test-'));
      for (const name of ['ca', 'cert', 'key']) fs.writeFileSync(path.join(dir, `${name}.pem`), `${name} pem`);
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads the CA, certificate and key', () => {
      const config = kafkaConfigFromEnv({
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: path.join(dir, 'ca.pem'),
        KAFKA_SSL_CERT_FILE: path.join(dir, 'cert.pem'),
        KAFKA_SSL_KEY_FILE: path.join(dir, 'key.pem'),
      });
      expect(config.ssl).toEqual({ rejectUnauthorized: true, ca: ['ca pem'], cert: 'cert pem', key: 'key pem' });
    });

    it('needs both the certificate and the key', () => {
      expect(() => kafkaConfigFromEnv({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: path.join(dir, 'cert.pem') })).toThrow(
        'KAFKA_SSL_CERT_FILE is set without KAFKA_SSL_KEY_FILE; a client certificate needs both',
      );
    });

    it('names an unreadable file', () => {
      const missing = path.join(dir, 'missing.pem');
      expect(() => kafkaConfigFromEnv({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: missing })).toThrow(
        `KAFKA_SSL_CA_FILE=${missing} cannot be read (ENOENT); point it at a PEM file`,
      );
    });
  });

  it('throws ConfigError instances with a single-line message', () => {
    try {
      kafkaConfigFromEnv({ KAFKA_BROKERS: 'nope' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).name).toBe('ConfigError');
      expect((err as Error).message).not.toContain('\n');
    }
  });
});

describe('fetchSettingsFromEnv', () => {
  it('waits for a batch by default, and reads both settings', () => {
    expect(fetchSettingsFromEnv({})).toEqual(DEFAULT_FETCH);
    expect(DEFAULT_FETCH).toEqual({ minBytes: 65_536, maxWaitMs: 20, idleWaitMs: 500 });
    expect(fetchSettingsFromEnv({ KAFKA_FETCH_MIN_BYTES: '1', KAFKA_FETCH_MAX_WAIT_MS: '100', KAFKA_FETCH_IDLE_WAIT_MS: '2000' })).toEqual({ minBytes: 1, maxWaitMs: 100, idleWaitMs: 2000 });
  });

  it('refuses what is not a whole number of at least 1, naming the setting', () => {
    expect(() => fetchSettingsFromEnv({ KAFKA_FETCH_MAX_WAIT_MS: '0' })).toThrow(ConfigError);
    expect(() => fetchSettingsFromEnv({ KAFKA_FETCH_IDLE_WAIT_MS: '0' })).toThrow(ConfigError);
    expect(() => fetchSettingsFromEnv({ KAFKA_FETCH_MIN_BYTES: '64k' })).toThrow('KAFKA_FETCH_MIN_BYTES="64k" is not a whole number of at least 1');
  });
});
