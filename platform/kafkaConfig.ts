// Builds the kafkajs client configuration from KAFKA_* environment variables, for every process that talks to Kafka.

import fs from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from './configError';
import { envBool, envValue, envWholeNumber } from './envValues';
import { fixRequestQueueTimer } from './kafkaRequestQueue';

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

/**
 * How a view's consumer fetches (subgraphs/runtime/fetchPacing.ts). A fetch asks the broker for
 * one byte and waits up to `idleWaitMs`: a quiet view costs one fetch per `idleWaitMs`, and the
 * first record after a quiet spell reaches it at once. After a batch smaller than `minBytes`, the
 * partition's next fetch waits until `maxWaitMs` have passed since that batch came, so records
 * that arrive meanwhile are fetched, folded and written as one batch (a fetch, a Redis checkpoint
 * read and a guarded write each, instead of one per record). Read-your-writes waits include up
 * to `maxWaitMs` when records come closer together than that, none for a record that comes alone.
 */
export interface FetchSettings {
  /** @default 65536 */
  readonly minBytes: number;
  /** @default 20 */
  readonly maxWaitMs: number;
  /** @default 500 */
  readonly idleWaitMs: number;
}

export const DEFAULT_FETCH: FetchSettings = Object.freeze({ minBytes: 65_536, maxWaitMs: 20, idleWaitMs: 500 });

/** KAFKA_FETCH_MIN_BYTES, KAFKA_FETCH_MAX_WAIT_MS and KAFKA_FETCH_IDLE_WAIT_MS. */
export function fetchSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): FetchSettings {
  return {
    minBytes: envWholeNumber(env, 'KAFKA_FETCH_MIN_BYTES', DEFAULT_FETCH.minBytes, 1),
    maxWaitMs: envWholeNumber(env, 'KAFKA_FETCH_MAX_WAIT_MS', DEFAULT_FETCH.maxWaitMs, 1),
    idleWaitMs: envWholeNumber(env, 'KAFKA_FETCH_IDLE_WAIT_MS', DEFAULT_FETCH.idleWaitMs, 1),
  };
}

/**
 * A kafkajs client that logs warnings and errors as one JSON line each on stderr; the errors a
 * broker answers while it is still starting up (see RETRIED_BROKER_ANSWERS) go out at debug.
 */
export function createKafka(config: KafkaConfig, level: logLevel.WARN | logLevel.ERROR = logLevel.WARN): Kafka {
  // Every client of ours comes through here: none keeps its connections on a 1 ms timer.
  fixRequestQueueTimer();
  return new Kafka({ ...config, logLevel: level, logCreator: jsonLogCreator });
}

/**
 * What a broker answers while it is starting up or moving a coordinator or a partition leader:
 * on a fresh broker the group and transaction coordinators are loading (`__consumer_offsets`,
 * `__transaction_state` are created on first use), a partition just created has no leader yet
 * and metadata may not know it, and a group is rebalancing while its members join. kafkajs
 * retries each such request (with backoff) and fails the caller only if the answer persists, so
 * a real failure still reaches the caller (a thrown error, or kafkajs' own "Crash: ..." line);
 * yet it logs every attempt at ERROR. Keyed by kafkajs' error type, valued by its message
 * (node_modules/kafkajs/src/protocol/error.js; the unit test holds them to kafkajs' table).
 */
export const RETRIED_BROKER_ANSWERS: Readonly<Record<string, string>> = {
  GROUP_LOAD_IN_PROGRESS: "The coordinator is loading and hence can't process requests for this group",
  GROUP_COORDINATOR_NOT_AVAILABLE: 'The group coordinator is not available',
  NOT_COORDINATOR_FOR_GROUP: 'This is not the correct coordinator for this group',
  LEADER_NOT_AVAILABLE: 'There is no leader for this topic-partition as we are in the middle of a leadership election',
  NOT_LEADER_FOR_PARTITION: 'This server is not the leader for that topic-partition',
  UNKNOWN_TOPIC_OR_PARTITION: 'This server does not host this topic-partition',
  NOT_CONTROLLER: 'This is not the correct controller for this cluster',
  REBALANCE_IN_PROGRESS: 'The group is rebalancing, so a rejoin is needed',
};
const RETRIED_MESSAGES = new Set(Object.values(RETRIED_BROKER_ANSWERS));

/**
 * The level a kafkajs entry is written at: its own, except an ERROR that only reports one
 * retried attempt meeting a RETRIED_BROKER_ANSWERS answer, which is debug. kafkajs reports those
 * as the failed response (`Response <Api>(...)` with the answer in `error`), the producer's
 * `Failed to send messages: <answer>`, or the bare answer (broker pool). Anything else, such
 * as `Crash: KafkaJSNumberOfRetriesExceeded: <answer>` once the retries ran out, stays an error.
 */
export function kafkaLogLevel({ level, label, log }: LogEntry): string {
  if (level === logLevel.ERROR) {
    const error: unknown = log.error;
    const message = typeof log.message === 'string' ? log.message.replace(/^Failed to send messages: /, '') : undefined;
    if ((typeof error === 'string' && RETRIED_MESSAGES.has(error)) || (message !== undefined && RETRIED_MESSAGES.has(message))) {
      return 'debug';
    }
  }
  return label.toLowerCase();
}

/** One JSON line for a kafkajs entry, or undefined when its level is below what is shown. */
export function kafkaLogLine(entry: LogEntry, showDebug: boolean): string | undefined {
  const level = kafkaLogLevel(entry);
  if (level === 'debug' && !showDebug) return undefined;
  const { message, timestamp, logger: _logger, ...extra } = entry.log;
  // kafkajs sometimes logs an Error object as the message; JSON would print it as {}.
  const text: unknown = (message as unknown) instanceof Error ? (message as unknown as Error).message : message;
  return JSON.stringify({ time: timestamp, level, source: 'kafkajs', namespace: entry.namespace, message: text, ...extra });
}

/**
 * kafkajs' default logger prints multi-line text; one JSON object per line is what log tooling
 * reads. Debug lines (the downgraded start-up answers) show only with LOG_LEVEL=debug or trace.
 */
export function jsonLogCreator(): (entry: LogEntry) => void {
  const showDebug = ['debug', 'trace'].includes((process.env.LOG_LEVEL ?? '').trim().toLowerCase());
  return (entry) => {
    const line = kafkaLogLine(entry, showDebug);
    if (line !== undefined) process.stderr.write(`${line}\n`);
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
