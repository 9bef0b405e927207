// Dead letters written at the edge: a client event that fails its contract never reaches the
// topic, so it goes to the topic's dead letters (`client-events.dlq`) with why and which release
// sent it. The headers are the projection runtime's dead-letter format
// (subgraphs/runtime/deadLetterHeaders.ts, which the gateway may not import; a test checks the
// two agree and that `parseDeadLetter` reads these), plus the app and its version. An edge dead
// letter has no source offset (it was never on the log; `dlq-edge` says so), and no view saw it,
// so `npm run dlq -- replay` holds it back: the app that sent it has to send it again, fixed.
// The reason names the release (`contract: [ios 4.2.0] query: expected ...`), so `npm run dlq --
// list` counts bad events by release and field. Pure.
import type { Message } from 'kafkajs';
import { CLIENT_EVENTS_TOPIC, partitionForKey } from '../../schema/events';

/** The runtime's dead-letter headers (DEAD_LETTER_HEADERS), and the edge's own two. */
export const EDGE_DEAD_LETTER_HEADERS = {
  reason: 'dlq-reason',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceKey: 'dlq-source-key',
  view: 'dlq-view',
  at: 'dlq-at',
  edge: 'dlq-edge',
  app: 'dlq-app',
  appVersion: 'dlq-app-version',
} as const;

/** What `dlq-view` says of an edge dead letter: the gateway refused it, no view saw it. */
export const EDGE_VIEW = 'gateway.events';
/** The runtime's prefix of a contract violation's reason (REASON_PREFIXES.contract), so counts by reason group them. */
const CONTRACT_PREFIX = 'contract: ';

export interface EdgeRefusal {
  /** The refused item's bytes as the client sent them (an array item: its JSON). */
  readonly bytes: string;
  readonly reason: string;
  /** The record key it would have had (its actor), when that could be told. */
  readonly key: string | null;
  readonly app: string | null;
  readonly appVersion: string | null;
}

/** The dead-letter record of a refused client event, for `<sourceTopic>.dlq`. */
export function edgeDeadLetter(sourceTopic: string, refusal: EdgeRefusal, at: Date, requestId: string, index: number): Message {
  const h = EDGE_DEAD_LETTER_HEADERS;
  const partition = refusal.key === null ? 0 : partitionForKey(refusal.key, CLIENT_EVENTS_TOPIC.partitions);
  return {
    // Unique per refused item and recognisable as the edge's: `<topic>:edge:<request>:<index>`.
    key: `${sourceTopic}:edge:${requestId}:${index}`,
    value: refusal.bytes,
    headers: {
      [h.reason]: `${CONTRACT_PREFIX}[${refusal.app ?? '(no app)'} ${refusal.appVersion ?? '(no version)'}] ${refusal.reason}`,
      [h.sourceTopic]: sourceTopic,
      [h.sourcePartition]: String(partition),
      [h.view]: EDGE_VIEW,
      [h.edge]: 'gateway',
      [h.at]: at.toISOString(),
      [h.app]: refusal.app ?? '(none)',
      [h.appVersion]: refusal.appVersion ?? '(none)',
      ...(refusal.key === null ? {} : { [h.sourceKey]: refusal.key }),
    },
  };
}
