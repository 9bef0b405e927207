// Builds the kafkajs client configuration from KAFKA_* environment variables, for every process that talks to Kafka.

import fs from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from './configError';
import { envBool, envValue } from './envValues';

/** A setting is missing or malformed; the message says which and how to fix it, in one line. */
// Re-exported: config modules and callers have always imported it from here.

const DEFAULT_BROKERS = '127.0.0.1:9092';
const DEFAULT_CLIENT_ID = 'streamgraph';
const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/**
 * KAFKA_BROKERS (comma list of host:port, default 127.0.0.1:9092), KAFKA_CLIENT_ID,
 * KAFKA_SASL_MECHANISM (plain | scram-sha-256 | scram-sha-512) with KAFKA_SASL_USERNAME and
 * KAFKA_SASL_PASSWORD, KAFKA_SSL (true/false) with optional KAFKA_SSL_CA_FILE,
 * KAFKA_SSL_CERT_FILE + KAFKA_SSL_KEY_FILE and KAFKA_SSL_REJECT_UNAUTHORIZED (default true).
 * Throws ConfigError on anything inconsistent, before any connection is attempted.
 */
export function kafkaConfigFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaConfig {
  const config: KafkaConfig = {
    brokers: parseBrokers(envValue(env, 'KAFKA_BROKERS') ?? DEFAULT_BROKERS),
    clientId: envValue(env, 'KAFKA_CLIENT_ID') ?? DEFAULT_CLIENT_ID,
  };
  const sasl = parseSasl(env);
  if (sasl) config.sasl = sasl;
  const ssl = parseSsl(env);
  if (ssl !== undefined) config.ssl = ssl;
  return config;
}

/** A kafkajs client that logs warnings and errors as one JSON line each on stderr. */
/**
 * KAFKA_REPLICATION_FACTOR for topics the project creates: unset means 1 (the local
 * single-node broker can hold no more); -1 asks for the broker's default.
 */
export function replicationFactorFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KAFKA_REPLICATION_FACTOR?.trim();
  if (!raw) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || (n < 1 && n !== -1))
    throw new ConfigError(`KAFKA_REPLICATION_FACTOR="${raw}" is not a replica count; set a positive integer, or -1 for the broker default`);
  return n;
}

export function createKafka(config: KafkaConfig, level: logLevel.WARN | logLevel.ERROR = logLevel.WARN): Kafka {
  return new Kafka({ ...config, logLevel: level, logCreator: jsonLogCreator });
}

/** kafkajs' default logger prints multi-line text; one JSON object per line is what log tooling reads. */
export function jsonLogCreator(): (entry: LogEntry) => void {
  return ({ namespace, label, log }) => {
    const { message, timestamp, logger: _logger, ...extra } = log;
    process.stderr.write(
      `${JSON.stringify({ time: timestamp, level: label.toLowerCase(), source: 'kafkajs', namespace, message, ...extra })}\n`,
    );
  };
}

function parseBrokers(raw: string): string[] {
  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) throw new ConfigError('KAFKA_BROKERS is empty; set it to host:port[,host:port...], e.g. 127.0.0.1:9092');
  for (const broker of brokers) {
    // host:port, with IPv6 hosts in brackets ([::1]:9092).
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d+)$/.exec(broker);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(`KAFKA_BROKERS entry "${broker}" is not host:port; set KAFKA_BROKERS=host1:9092,host2:9092`);
    }
  }
  return brokers;
}

function parseSasl(env: NodeJS.ProcessEnv): SASLOptions | undefined {
  const rawMechanism = envValue(env, 'KAFKA_SASL_MECHANISM');
  const username = envValue(env, 'KAFKA_SASL_USERNAME');
  // A password may legitimately start or end with spaces; only a blank one counts as unset.
  const password = envValue(env, 'KAFKA_SASL_PASSWORD') === undefined ? undefined : env.KAFKA_SASL_PASSWORD;
  if (rawMechanism === undefined) {
    if (username !== undefined || password !== undefined) {
      throw new ConfigError(
        `KAFKA_SASL_${username !== undefined ? 'USERNAME' : 'PASSWORD'} is set but KAFKA_SASL_MECHANISM is not; set it to ${SASL_MECHANISMS.join(', ')}`,
      );
    }
    return undefined;
  }
  const mechanism = rawMechanism.toLowerCase();
  if (!isSaslMechanism(mechanism)) {
    throw new ConfigError(`KAFKA_SASL_MECHANISM="${rawMechanism}" is not supported; use one of ${SASL_MECHANISMS.join(', ')}`);
  }
  if (username === undefined) throw new ConfigError(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME; set it`);
  if (password === undefined) throw new ConfigError(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_PASSWORD; set it`);
  return { mechanism, username, password };
}

function parseSsl(env: NodeJS.ProcessEnv): ConnectionOptions | boolean | undefined {
  const ssl = envBool(env, 'KAFKA_SSL');
  const caFile = envValue(env, 'KAFKA_SSL_CA_FILE');
  const certFile = envValue(env, 'KAFKA_SSL_CERT_FILE');
  const keyFile = envValue(env, 'KAFKA_SSL_KEY_FILE');
  const rejectUnauthorized = envBool(env, 'KAFKA_SSL_REJECT_UNAUTHORIZED');

  if (ssl !== true) {
    // Certificates without KAFKA_SSL=true would silently connect in plaintext; say so instead.
    const stray = [
      ['KAFKA_SSL_CA_FILE', caFile],
      ['KAFKA_SSL_CERT_FILE', certFile],
      ['KAFKA_SSL_KEY_FILE', keyFile],
      ['KAFKA_SSL_REJECT_UNAUTHORIZED', rejectUnauthorized],
    ].find(([, v]) => v !== undefined);
    if (stray) throw new ConfigError(`${stray[0]} is set but KAFKA_SSL is not true; set KAFKA_SSL=true or unset ${stray[0]}`);
    return ssl;
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      `${certFile === undefined ? 'KAFKA_SSL_KEY_FILE' : 'KAFKA_SSL_CERT_FILE'} is set without ${certFile === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE'}; a client certificate needs both`,
    );
  }
  if (caFile === undefined && certFile === undefined && rejectUnauthorized !== false) return true;
  const options: ConnectionOptions = { rejectUnauthorized: rejectUnauthorized ?? true };
  if (caFile !== undefined) options.ca = [readPem('KAFKA_SSL_CA_FILE', caFile)];
  if (certFile !== undefined && keyFile !== undefined) {
    options.cert = readPem('KAFKA_SSL_CERT_FILE', certFile);
    options.key = readPem('KAFKA_SSL_KEY_FILE', keyFile);
  }
  return options;
}

function readPem(variable: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${variable}=${file} cannot be read (${code}); point it at a PEM file`);
  }
}



function isSaslMechanism(m: string): m is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(m);
}
