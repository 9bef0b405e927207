// POST /events: client event batches in through the gateway, the only public door. In order:
// the caller's token (401), the body within GATEWAY_MAX_BODY_BYTES (413), a JSON array or NDJSON
// of at most EVENTS_MAX_BATCH events (400, 413), the rate limits per device, customer and client
// address (429, nothing produced), then each event against the client-events contract: valid ones
// go to the topic keyed by their actor, invalid ones to its dead letters with the reason and the
// app version, and the answer says how many were accepted and why each other one was not.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Cluster, Redis } from 'ioredis';
import type { Kafka, Message } from 'kafkajs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  CLIENT_EVENT_TYPES,
  CLIENT_EVENTS_TOPIC,
  createEvent,
  customerActor,
  deviceActor,
  dlqTopicName,
  encodeEvent,
  partitionForKey,
  type ClientEvent,
} from '../../schema/events';
import { readBody } from '../../platform/httpBody';
import { hasRole } from '../../platform/identity';
import type { Logger } from '../../platform/logger';
import { AuthError, type Authenticator } from '../auth';
import { parseBatchBody, type BatchItem } from './batchBody';
import { checkClientEvent, type EventCaller } from './edgeContract';
import { edgeDeadLetter, type EdgeRefusal } from './edgeDeadLetters';
import { isClaimableDevice, type DeviceClaimRule } from './claimableDevice';
import { createEventRateLimiter, type RateLimitCharge } from './eventRateLimiter';
import { createIngestProducer } from './ingestProducer';
import { createSeenDevices } from './seenDevices';

export const EVENTS_PATH = '/events';

/** The settings of POST /events (EVENTS_* in config.ts). */
export interface EventIngestSettings {
  /** Events one request may carry. @default 500 */
  readonly maxBatch: number;
  /** Events per minute one device, and one customer, may send. @default 1200 */
  readonly ratePerMinute: number;
  /** Events per minute from one client address, whoever sends them. @default 60000 */
  readonly addressRatePerMinute: number;
  /** Which device ids a signed-in customer's events may claim (EVENTS_DEVICE_CLAIMS). @default 'uuid' */
  readonly deviceClaims: DeviceClaimRule;
  /** The namespace the topic lives in (STREAMGRAPH_NAMESPACE). */
  readonly namespace: string;
}

export const DEFAULT_EVENT_INGEST: Omit<EventIngestSettings, 'namespace'> = Object.freeze({
  maxBatch: 500,
  ratePerMinute: 1200,
  addressRatePerMinute: 60_000,
  deviceClaims: 'uuid',
});

export interface EventIngestOptions {
  readonly settings: EventIngestSettings;
  readonly kafka: Kafka;
  readonly redis: Redis | Cluster;
  readonly authenticator: Authenticator;
  readonly maxBodyBytes: number;
  readonly registry: Registry;
  readonly logger: Logger;
}

export interface EventIngest {
  /** Answers POST /events and returns true; any other path is left alone (false). */
  serve(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): boolean;
  close(): Promise<void>;
}

/** The answer to an admitted batch. */
export interface IngestAnswer {
  readonly accepted: number;
  readonly rejected: ReadonlyArray<{ readonly index: number; readonly reason: string }>;
}

/**
 * Events accepted from clients and not yet acknowledged by Kafka, at most: past it a batch is
 * answered 503 before anything is charged or produced. A second of the benchmark's top rate,
 * and with the body bound what a slow broker can make the gateway hold (about 10 MB).
 */
export const MAX_PENDING_EVENTS = 20_000;

/**
 * How long a batch waits for the rate limits' answer. Past it the batch is answered 503
 * RATE_LIMIT_UNAVAILABLE at once instead of waiting out ioredis's reconnect attempts (about 10 s
 * with its defaults) while holding its share of MAX_PENDING_EVENTS. A charge Redis applies after
 * the deadline counts a batch that was refused; its window expires within two minutes.
 */
export const RATE_LIMIT_DEADLINE_MS = 2_000;

/** The header naming each record's event type (the runtime producer's EVENT_TYPE_HEADER): views pass over types they ignore unparsed. */
const EVENT_TYPE_HEADER = 'event-type';
const TYPE_LABELS = new Set<string>(Object.keys(CLIENT_EVENT_TYPES));

function refusal(res: http.ServerResponse, status: number, code: string, message: string, headers: http.OutgoingHttpHeaders = {}): number {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
  return status;
}

function eventRecord(event: ClientEvent): Message {
  return {
    key: event.key,
    value: encodeEvent(event),
    partition: partitionForKey(event.key, CLIENT_EVENTS_TOPIC.partitions),
    headers: { [EVENT_TYPE_HEADER]: event.type },
  };
}

export function createEventIngest(opts: EventIngestOptions): EventIngest {
  const { settings, logger } = opts;
  const topic = `${settings.namespace}${CLIENT_EVENTS_TOPIC.name}`;
  const dlq = dlqTopicName(topic);
  const producer = createIngestProducer(opts.kafka);
  const limiter = createEventRateLimiter(opts.redis, settings.namespace);
  // Which customer has been seen on which device: DeviceSignedIn is written once per pair and process.
  const seen = createSeenDevices(10_000);
  const registers = [opts.registry];
  const events = new Counter({
    name: 'streamgraph_gateway_client_events_total',
    help: 'Client events received on POST /events, by outcome (accepted, rejected) and type (one of the known names, or unknown).',
    labelNames: ['outcome', 'type'],
    registers,
  });
  const requests = new Histogram({
    name: 'streamgraph_gateway_events_request_duration_seconds',
    help: 'POST /events requests, by HTTP status.',
    labelNames: ['status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const withheldClaims = new Counter({
    name: 'streamgraph_gateway_device_claims_withheld_total',
    help: 'Devices a signed-in customer sent events on that were not claimed because the id carries no random UUID (EVENTS_DEVICE_CLAIMS=uuid), counted once per batch and device.',
    registers,
  });
  const limitOutage = { loggedAt: 0, refused: 0 };
  let pending = 0;
  new Gauge({
    name: 'streamgraph_gateway_events_pending',
    help: `Client events waiting for Kafka's acknowledgement (at most ${MAX_PENDING_EVENTS}).`,
    registers,
    collect() {
      this.set(pending);
    },
  });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<number> => {
    if (req.method !== 'POST') return refusal(res, 405, 'METHOD_NOT_ALLOWED', `${EVENTS_PATH} takes POST`, { allow: 'POST' });
    let caller: EventCaller;
    try {
      const { identity } = opts.authenticator.verify(req.headers.authorization);
      // Only a customer's subject is a customer id; anyone else sends device-only events.
      caller = { customerId: identity.sub !== null && hasRole(identity, 'customer') ? identity.sub : null };
    } catch (e) {
      if (e instanceof AuthError) return refusal(res, 401, 'UNAUTHENTICATED', e.message);
      throw e;
    }
    const text = await readBody(req, opts.maxBodyBytes);
    if (text === null) return refusal(res, 413, 'REQUEST_TOO_LARGE', `request body is over the limit of ${opts.maxBodyBytes} bytes`);
    const body = parseBatchBody(text, settings.maxBatch);
    if ('refused' in body) return body.tooMany ? refusal(res, 413, 'BATCH_TOO_LARGE', body.refused) : refusal(res, 400, 'BAD_REQUEST', body.refused);
    // A broker that is slow to acknowledge must not make the gateway hold without bound.
    if (pending + body.items.length > MAX_PENDING_EVENTS)
      return refusal(res, 503, 'EVENTS_BUSY', 'too many events are waiting to be written; retry shortly', { 'retry-after': '1' });
    // Reserved before the first wait, so batches arriving meanwhile count against the bound.
    const reserved = body.items.length;
    pending += reserved;
    try {
      return await admitted(req, res, caller, body.items);
    } finally {
      pending -= reserved;
    }
  };

  /** A batch within every bound so far: the rate limits, then the contract, then Kafka. */
  const admitted = async (req: http.IncomingMessage, res: http.ServerResponse, caller: EventCaller, items: readonly BatchItem[]): Promise<number> => {
    let deadline: NodeJS.Timeout | undefined;
    const decision = await Promise.race([
      limiter.charge(chargesOf(items, caller, req.socket.remoteAddress ?? 'unknown', settings)),
      new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`no answer from Redis within ${RATE_LIMIT_DEADLINE_MS} ms`)), RATE_LIMIT_DEADLINE_MS);
      }),
    ])
      .catch((e: unknown) => {
        // One line per 10 s of an outage, with how many batches it refused: not one per request.
        limitOutage.refused++;
        const now = Date.now();
        if (now - limitOutage.loggedAt >= 10_000) {
          logger.warn({ err: e, refusedBatches: limitOutage.refused }, 'events rate limit unavailable');
          limitOutage.loggedAt = now;
          limitOutage.refused = 0;
        }
        return null;
      })
      .finally(() => clearTimeout(deadline));
    if (decision === null) return refusal(res, 503, 'RATE_LIMIT_UNAVAILABLE', 'the rate limits cannot be checked now; retry shortly', { 'retry-after': '1' });
    if (!decision.admitted)
      return refusal(res, 429, 'RATE_LIMITED', `over the limit of ${decision.limit} events per minute per ${decision.kind}; retry in ${decision.retryAfterSeconds} s`, {
        'retry-after': String(decision.retryAfterSeconds),
      });

    const now = new Date();
    const receivedAt = now.toISOString();
    const requestId = String(res.getHeader('x-request-id') ?? randomUUID());
    const accepted: Message[] = [];
    const rejected: Array<{ index: number; reason: string }> = [];
    const deadLetters: Message[] = [];
    const devices = new Set<string>();
    const types: string[] = [];
    items.forEach((item, index) => {
      const checked =
        'unreadable' in item
          ? ({ ok: false, reason: `event: ${item.unreadable}`, type: null, app: null, appVersion: null } as const)
          : checkClientEvent(item.value, caller, receivedAt, randomUUID());
      if (checked.ok) {
        accepted.push(eventRecord(checked.event));
        types.push(wireTypeOf(item));
        if (caller.customerId !== null && checked.event.type !== 'DeviceSignedIn') devices.add(checked.event.payload.deviceId);
        return;
      }
      rejected.push({ index, reason: checked.reason });
      events.inc({ outcome: 'rejected', type: checked.type ?? 'unknown' });
      const key = actorOf(item, caller);
      const refused: EdgeRefusal = { bytes: item.bytes, reason: checked.reason, key, app: checked.app, appVersion: checked.appVersion };
      deadLetters.push(edgeDeadLetter(topic, refused, now, requestId, index));
    });
    // A customer seen on a device for the first time (in this process): that device's earlier
    // anonymous activity joins the customer (docs/client-events.md, "Signing in"), if its id is
    // one nobody could have guessed (claimableDevice.ts).
    const claimable = [...devices].filter((d) => isClaimableDevice(d, settings.deviceClaims));
    if (claimable.length < devices.size) withheldClaims.inc(devices.size - claimable.length);
    const signedIn = caller.customerId === null ? [] : claimable.filter((d) => !seen.has(caller.customerId!, d));
    for (const deviceId of signedIn)
      accepted.push(eventRecord(createEvent(CLIENT_EVENTS_TOPIC, 'DeviceSignedIn', { actor: deviceActor(deviceId), deviceId, customerId: caller.customerId! }, { occurredAt: receivedAt })));
    try {
      await producer.send([
        { topic, messages: accepted },
        { topic: dlq, messages: deadLetters },
      ]);
    } catch (e) {
      logger.warn({ err: e, events: accepted.length, deadLetters: deadLetters.length }, 'client events not written');
      return refusal(res, 503, 'EVENTS_UNAVAILABLE', 'the events could not be written now; retry the batch', { 'retry-after': '1' });
    }
    for (const deviceId of signedIn) seen.add(caller.customerId!, deviceId);
    for (const t of types) events.inc({ outcome: 'accepted', type: t });
    const answer: IngestAnswer = { accepted: accepted.length - signedIn.length, rejected };
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(answer));
    return 200;
  };

  return {
    serve(req, res, pathname) {
      if (pathname !== EVENTS_PATH) return false;
      const started = process.hrtime.bigint();
      void handle(req, res)
        .catch((e: unknown) => {
          logger.error({ err: e }, 'events request failed');
          if (!res.headersSent) return refusal(res, 500, 'INTERNAL_SERVER_ERROR', 'internal error');
          res.end();
          return 500;
        })
        .then((status) => requests.observe({ status: String(status) }, Number(process.hrtime.bigint() - started) / 1e9));
      return true;
    },
    close: () => producer.close(),
  };
}

/** The record key a refused item would have had, when it can be told (for its dead letter's partition). */
function actorOf(item: BatchItem, caller: EventCaller): string | null {
  if (caller.customerId !== null) return customerActor(caller.customerId);
  const d = fieldOf(item, 'deviceId');
  return typeof d === 'string' && d.length >= 1 && d.length <= 128 ? deviceActor(d) : null;
}

/** A field of an item that decoded to an object; undefined otherwise. */
function fieldOf(item: BatchItem, field: string): unknown {
  if (!('value' in item) || typeof item.value !== 'object' || item.value === null) return undefined;
  return (item.value as Record<string, unknown>)[field];
}

function wireTypeOf(item: BatchItem): string {
  const t = fieldOf(item, 'type');
  return typeof t === 'string' && TYPE_LABELS.has(t) ? t : 'unknown';
}

/**
 * What a batch costs against the limits: each event counts against its device (an event without
 * a usable device id against the address only), a signed-in caller's events against the
 * customer too, and every event against the client's address.
 */
export function chargesOf(
  items: readonly BatchItem[],
  caller: EventCaller,
  address: string,
  settings: Pick<EventIngestSettings, 'ratePerMinute' | 'addressRatePerMinute'>,
): RateLimitCharge[] {
  const perDevice = new Map<string, number>();
  for (const item of items) {
    const d = fieldOf(item, 'deviceId');
    if (typeof d === 'string' && d.length >= 1 && d.length <= 128) perDevice.set(d, (perDevice.get(d) ?? 0) + 1);
  }
  const charges: RateLimitCharge[] = [...perDevice].map(([id, n]) => ({ kind: 'device', id, events: n, limit: settings.ratePerMinute }));
  if (caller.customerId !== null) charges.push({ kind: 'customer', id: caller.customerId, events: items.length, limit: settings.ratePerMinute });
  if (items.length > 0) charges.push({ kind: 'address', id: address, events: items.length, limit: settings.addressRatePerMinute });
  return charges;
}
