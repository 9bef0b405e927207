// Unit tests of how kafkajs log entries are leveled: the retried answers of a broker that is
// still starting up go out at debug, real errors stay errors. No broker is contacted; the
// entries go through kafkajs' own logger with kafkajs' own error texts.

import { logLevel, type LogEntry } from 'kafkajs';
import { jsonLogCreator, kafkaLogLevel, kafkaLogLine, RETRIED_BROKER_ANSWERS } from './kafkaConfig';

// kafkajs internals (pinned version): its error table and its logger, as its clients use them.
const { errorCodes, createErrorFromCode } = require('kafkajs/src/protocol/error') as {
  errorCodes: Array<{ type: string; code: number; retriable: boolean; message: string }>;
  createErrorFromCode(code: number): Error & { type: string; retriable: boolean };
};
const { createLogger } = require('kafkajs/src/loggers') as {
  createLogger(options: { level: logLevel; logCreator: (level: logLevel) => (entry: LogEntry) => void }): KafkaLogger;
};
interface KafkaLogger {
  error(message: unknown, extra?: object): void;
  warn(message: unknown, extra?: object): void;
  namespace(name: string): KafkaLogger;
}

/** Logs through kafkajs' logger at its default WARN level and returns the entries it hands to a log creator. */
function entriesOf(log: (logger: KafkaLogger) => void): LogEntry[] {
  const entries: LogEntry[] = [];
  log(createLogger({ level: logLevel.WARN, logCreator: () => (entry) => entries.push(entry) }));
  return entries;
}

function answer(type: string): string {
  const code = errorCodes.find((e) => e.type === type)!.code;
  return createErrorFromCode(code).message;
}

describe('RETRIED_BROKER_ANSWERS', () => {
  it("holds kafkajs' own type names and messages", () => {
    for (const [type, message] of Object.entries(RETRIED_BROKER_ANSWERS)) {
      expect(errorCodes.find((e) => e.type === type)?.message).toBe(message);
    }
  });

  it('covers the coordinator, leadership, new-topic and rebalance answers', () => {
    expect(Object.keys(RETRIED_BROKER_ANSWERS).sort()).toEqual(
      [
        'GROUP_COORDINATOR_NOT_AVAILABLE', // COORDINATOR_NOT_AVAILABLE (15)
        'GROUP_LOAD_IN_PROGRESS', // COORDINATOR_LOAD_IN_PROGRESS (14)
        'LEADER_NOT_AVAILABLE',
        'NOT_CONTROLLER',
        'NOT_COORDINATOR_FOR_GROUP', // NOT_COORDINATOR (16)
        'NOT_LEADER_FOR_PARTITION',
        'REBALANCE_IN_PROGRESS',
        'UNKNOWN_TOPIC_OR_PARTITION',
      ].sort(),
    );
  });
});

describe('kafkaLogLevel', () => {
  // What a fresh broker made npm start print at ERROR (from .run/logs), one per answer type.
  it.each(Object.keys(RETRIED_BROKER_ANSWERS))('puts a failed response answered %s at debug', (type) => {
    const [entry] = entriesOf((logger) =>
      logger.namespace('Connection').error('Response GroupCoordinator(key: 10, version: 2)', {
        broker: '127.0.0.1:9092',
        clientId: 'streamgraph',
        error: answer(type),
        correlationId: 2,
        size: 55,
      }),
    );
    expect(entry.level).toBe(logLevel.ERROR);
    expect(kafkaLogLevel(entry)).toBe('debug');
  });

  it("puts the producer's retried send and the broker pool's retried connect at debug", () => {
    const entries = entriesOf((logger) => {
      logger.namespace('Producer').error(`Failed to send messages: ${answer('LEADER_NOT_AVAILABLE')}`, { retryCount: 0, retryTime: 300 });
      logger.namespace('BrokerPool').error(answer('NOT_LEADER_FOR_PARTITION'), { retryCount: 1, retryTime: 600 });
      logger.namespace('Producer').error(answer('GROUP_LOAD_IN_PROGRESS'), { retryCount: 0, retryTime: 300 });
    });
    expect(entries.map(kafkaLogLevel)).toEqual(['debug', 'debug', 'debug']);
  });

  it('keeps real errors as errors', () => {
    const entries = entriesOf((logger) => {
      // Retries ran out: the consumer crashes (and restarts); the caller must see it.
      logger.namespace('Consumer').error(`Crash: KafkaJSNumberOfRetriesExceeded: ${answer('GROUP_COORDINATOR_NOT_AVAILABLE')}`, {
        groupId: 'orders.orders',
        retryCount: 5,
      });
      logger.namespace('Consumer').error('Restarting the consumer in 300ms', { retryCount: 5, retryTime: 300, groupId: 'g' });
      // An answer that is no start-up state.
      logger.namespace('Connection').error('Response Produce(key: 0, version: 7)', { error: answer('MESSAGE_TOO_LARGE') });
      logger.namespace('Connection').error('Response SaslAuthenticate(key: 36, version: 1)', { error: answer('SASL_AUTHENTICATION_FAILED') });
      logger.namespace('Runner').error('The coordinator is not aware of this member, re-joining the group', {
        error: answer('UNKNOWN_MEMBER_ID'),
      });
      logger.namespace('Connection').error('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092' });
      logger.namespace('Producer').error(`Failed to send messages: ${answer('NOT_ENOUGH_REPLICAS')}`, { retryCount: 0 });
    });
    expect(entries).toHaveLength(7);
    expect(entries.map(kafkaLogLevel)).toEqual(Array(7).fill('error'));
  });

  it('leaves warnings as warnings, whatever they quote', () => {
    const [entry] = entriesOf((logger) =>
      logger.namespace('Admin').warn('Could not delete topics', { error: answer('UNKNOWN_TOPIC_OR_PARTITION'), retryCount: 0 }),
    );
    expect(kafkaLogLevel(entry)).toBe('warn');
  });
});

describe('kafkaLogLine', () => {
  const [retried, real] = entriesOf((logger) => {
    logger.namespace('Connection').error('Response InitProducerId(key: 22, version: 1)', {
      broker: '127.0.0.1:9092',
      error: answer('GROUP_LOAD_IN_PROGRESS'),
    });
    logger.namespace('Consumer').error('Crash: KafkaJSNumberOfRetriesExceeded: boom', { groupId: 'g' });
  });

  it('drops a downgraded entry unless debug lines are shown', () => {
    expect(kafkaLogLine(retried, false)).toBeUndefined();
    expect(JSON.parse(kafkaLogLine(retried, true)!)).toMatchObject({
      level: 'debug',
      source: 'kafkajs',
      namespace: 'Connection',
      message: 'Response InitProducerId(key: 22, version: 1)',
      error: RETRIED_BROKER_ANSWERS.GROUP_LOAD_IN_PROGRESS,
    });
  });

  it('writes a real error as one JSON line at error', () => {
    const line = kafkaLogLine(real, false)!;
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({ level: 'error', namespace: 'Consumer', message: 'Crash: KafkaJSNumberOfRetriesExceeded: boom', groupId: 'g' });
    expect(JSON.parse(line)).not.toHaveProperty('logger');
  });

  it("prints an Error logged as the message by its text, not as {}", () => {
    const [entry] = entriesOf((logger) => logger.namespace('BrokerPool').error(new Error('socket hang up'), { retryCount: 0 }));
    expect(JSON.parse(kafkaLogLine(entry, false)!)).toMatchObject({ level: 'error', message: 'socket hang up' });
  });
});

describe('jsonLogCreator', () => {
  const saved = process.env.LOG_LEVEL;
  let written: string[];
  let spy: jest.SpyInstance;
  beforeEach(() => {
    written = [];
    spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    spy.mockRestore();
    if (saved === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = saved;
  });

  function logBoth(): void {
    const log = jsonLogCreator();
    const [retried, real] = entriesOf((logger) => {
      logger.namespace('Connection').error('Response GroupCoordinator(key: 10, version: 2)', { error: answer('GROUP_COORDINATOR_NOT_AVAILABLE') });
      logger.namespace('Producer').error(`Failed to send messages: ${answer('MESSAGE_TOO_LARGE')}`, { retryCount: 0 });
    });
    log(retried);
    log(real);
  }

  it('writes only the real error at the default level', () => {
    delete process.env.LOG_LEVEL;
    logBoth();
    expect(written.map((l) => JSON.parse(l).level)).toEqual(['error']);
  });

  it('writes the retried answers too with LOG_LEVEL=debug', () => {
    process.env.LOG_LEVEL = 'debug';
    logBoth();
    expect(written.map((l) => JSON.parse(l).level)).toEqual(['debug', 'error']);
    expect(written.every((l) => l.endsWith('\n'))).toBe(true);
  });
});
