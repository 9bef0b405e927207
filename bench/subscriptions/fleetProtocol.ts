// The IPC contract between the benchmark and its client processes (clientFleet.ts). Every
// request carries a sequence number its reply repeats. Receipts never cross one by one: the
// fleet keeps them and answers with counts and a latency histogram.
import type { SparseHistogram } from './latencyHistogram';

/** One graphql-ws client: it follows one order with its customer's token. */
export interface FleetClientSpec {
  /** The order's index in the run (what produce times and versions are keyed by). */
  readonly slot: number;
  readonly orderId: string;
  /** What goes into connection_init as `authorization` (our gateway checks it; Hive ignores it). */
  readonly authorization: string;
}

export type FleetRequest =
  | {
      readonly type: 'start';
      /** The gateway's graphql-ws URL. */
      readonly url: string;
      readonly query: string;
      readonly store: string;
      readonly clients: readonly FleetClientSpec[];
      /** WebSocket handshakes in flight at once, so 5,000 clients do not all knock together. */
      readonly connectConcurrency: number;
      /**
       * The loopback address this process's clients connect from (127.0.0.2, ...): one source
       * address has about 28,000 ephemeral ports, so 30,000 clients need several. null: the default.
       */
      readonly localAddress: string | null;
    }
  | { readonly type: 'status' }
  /** How many clients' last version differs from the view's, per slot. */
  | { readonly type: 'check'; readonly viewVersions: readonly number[] }
  | {
      readonly type: 'summarise';
      /** Per slot: the version the first produced event turns the order into, minus one. */
      readonly baseVersions: readonly number[];
      /** Per slot: produce time (epoch ms, sub-ms) of the event that made version base + 1 + i. */
      readonly producedAt: ReadonlyArray<readonly number[]>;
      /** The steady window, epoch ms. */
      readonly windowStart: number;
      readonly windowEnd: number;
    }
  | { readonly type: 'stop' };

export interface FleetStatus {
  readonly clients: number;
  /** connection_ack received. */
  readonly acked: number;
  /** At least one complete state received. */
  readonly withFirstState: number;
  /** Connections that closed or failed (nothing reconnects: a closed client shows as lost updates). */
  readonly closed: number;
  /** `error` or `complete` messages for the subscription. */
  readonly subscriptionErrors: number;
  /** The first failure seen, to say why. */
  readonly firstError: string | null;
}

export interface FleetCheck {
  /** Clients whose last received version is below the view's. */
  readonly behind: number;
  /** Clients whose last received version is above the view's (a read that lagged). */
  readonly ahead: number;
}

export interface FleetSummary {
  /** Complete deliveries received inside the window (not counting first states). */
  readonly deliveredInWindow: number;
  /** Payloads without the customer's name or a product's name: not counted as delivered. */
  readonly incompleteDeliveries: number;
  /** Payloads carrying GraphQL errors (complete or not). */
  readonly deliveriesWithErrors: number;
  /** A version not newer than the client's last one (repeat or reorder). */
  readonly staleDeliveries: number;
  /** Versions produced after a client's first state that it never saw (conflated or lost). */
  readonly skippedVersions: number;
  /**
   * Per client and version produced inside the window: from its produce time to the client first
   * holding that version or a newer one (complete payloads only). A version still missing when
   * the parent asks counts with the time waited until then.
   */
  readonly latency: SparseHistogram;
  /** Of those, versions still missing when summarised: their latencies are lower bounds. */
  readonly latencyCensored: number;
  /** From produce time to receipt of exactly that version, for the versions delivered as such. */
  readonly exactLatency: SparseHistogram;
  /** Deliveries whose version has no produce time (should be 0: a version mapping gone wrong). */
  readonly unmatchedVersions: number;
}

export type FleetReply =
  | ({ readonly type: 'status' } & FleetStatus)
  | ({ readonly type: 'check' } & FleetCheck)
  | ({ readonly type: 'summary' } & FleetSummary)
  | { readonly type: 'started' }
  | { readonly type: 'stopped' };

export type Envelope<T> = T & { readonly seq: number };
