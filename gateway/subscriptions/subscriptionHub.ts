// Shares upstream subscriptions. Clients asking for the same operation with the same
// variables under the same identity share one upstream subscription (streams of states and
// streams of other events alike), and each of its events
// is resolved (entity fetches to other subgraphs, response shaping) and serialised once for
// all of them. Events that arrive while the previous batch is being resolved are resolved
// together; of several states of one object only the newest is resolved.
import type { GraphQLFormattedError } from 'graphql';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { signIdentity, type Identity } from '../../platform/identity';
import type { Logger } from '../../platform/logger';
import { contextOfSpan, endSpan, linksTo, sampledContextOf, startSpan, tracingEnabled, TRACEPARENT, type Span } from '../../platform/tracing';
import { createGatewayContext, type GatewayContext } from '../execution/context';
import type { ServiceMap, SubscriptionPlan } from './subscriptionPlanner';
import type { UpstreamResult } from './upstreamConnection';
import type { UpstreamPool } from './upstreamPool';
import { tracesOf, type PendingEvent } from './supersededTraces';

/** What a client subscription receives from the hub. */
export interface SubscriberSink {
  /**
   * One event's payload, already JSON. `key` names the object it is the state of (null:
   * not a state, deliver every one).
   */
  deliver(payloadJson: string, key: string | null): void;
  error(errors: readonly GraphQLFormattedError[]): void;
  complete(): void;
}

export interface SubscriptionRequest {
  readonly plan: SubscriptionPlan;
  readonly queryText: string;
  readonly operationName?: string;
  readonly variables: Record<string, unknown>;
  readonly identity: Identity;
}

export interface SubscriptionHubMetrics {
  /** Upstream subscriptions open (shared groups). */
  readonly upstream: Gauge;
  /** Upstream events, by outcome (delivered, unchanged, superseded). */
  readonly events: Counter<'outcome'>;
  /** Messages handed to clients. */
  readonly deliveries: Counter;
  /** Time from an upstream event to its payload being handed to clients. */
  readonly resolveSeconds: Histogram;
  /** Resolutions retried because a subgraph was unavailable. */
  readonly retries: Counter;
}

export interface SubscriptionHubOptions {
  readonly pool: UpstreamPool;
  readonly identitySecret: string;
  readonly logger: Logger;
  readonly metrics: SubscriptionHubMetrics;
  /** The data sources rest fetches go through, per plan (the plan's supergraph). */
  readonly serviceMapFor: (plan: SubscriptionPlan) => ServiceMap;
  /**
   * How long an event whose entity fetches found a subgraph unavailable is retried before it
   * is delivered with the errors. A newer state of the same object ends the retrying early.
   * @default 15000
   */
  readonly retryUnavailableMs?: number;
  /** Registry mode: the graphql-ws URL of a live instance of a subgraph (null: none runs; the published URL is tried). */
  readonly routeWs?: (serviceName: string) => string | null;
}

export interface SubscriptionHub {
  subscribe(request: SubscriptionRequest, sink: SubscriberSink): () => void;
  /** Open shared upstream subscriptions (tests, metrics). */
  groupCount(): number;
  close(): void;
}

/** Who a subgraph answers: results are shared only among callers it cannot tell apart. */
export const scopeOf = (identity: Identity): string => `${identity.sub ?? ''}|${[...identity.roles].sort().join(',')}`;

/** How many object states a shared subscription keeps to bring joining clients up to date. */
const MAX_LATEST = 1000;

export function createSubscriptionHub(opts: SubscriptionHubOptions): SubscriptionHub {
  const groups = new Map<string, Group>();
  const retryMs = opts.retryUnavailableMs ?? 15_000;
  let nextGroupId = 1;

  class Group {
    readonly sinks = new Set<SubscriberSink>();
    /** Newest payload per object key: brings joiners up to date and drops unchanged repeats. */
    readonly latest = new Map<string, string>();
    readonly pending = new Map<string, PendingEvent>();
    running = false;
    ended = false;
    ending: { errors: readonly GraphQLFormattedError[] | null } | null = null;
    private seq = 0;
    private signed: { header: string; at: number } | null = null;
    private readonly stopUpstream: () => void;
    private readonly requestId = `subscription-${nextGroupId++}`;

    constructor(
      readonly key: string,
      readonly request: SubscriptionRequest,
    ) {
      const { plan, variables } = request;
      const upstreamVariables: Record<string, unknown> = {};
      for (const name of plan.primary.variableUsages) if (name in variables) upstreamVariables[name] = variables[name];
      opts.metrics.upstream.inc();
      this.stopUpstream = opts.pool.subscribe(
        // Asked again at every resubscribe, so a subscription follows the subgraph's live instances.
        () => opts.routeWs?.(plan.primary.serviceName) ?? plan.supergraph.wsUrlOf(plan.primary.serviceName),
        { query: plan.primary.operation, operationName: plan.primary.operationName, variables: upstreamVariables, identity: request.identity },
        {
          next: (result) => this.onEvent(result),
          error: (errors) => this.end(errors),
          complete: () => this.end(null),
        },
      );
    }

    join(sink: SubscriberSink): void {
      this.sinks.add(sink);
      for (const [key, json] of this.latest) sink.deliver(json, key);
    }

    leave(sink: SubscriberSink): void {
      if (!this.sinks.delete(sink) || this.sinks.size > 0) return;
      this.dispose();
    }

    private dispose(): void {
      if (this.ended) return;
      this.ended = true;
      groups.delete(this.key);
      opts.metrics.upstream.dec();
      this.stopUpstream();
    }

    private onEvent(result: UpstreamResult): void {
      if (this.ended) return;
      const key = this.request.plan.keyOf(result.data) ?? `#${this.seq++}`;
      const replaced = this.pending.get(key);
      if (replaced) opts.metrics.events.inc({ outcome: 'superseded' });
      this.pending.set(key, { result, at: process.hrtime.bigint(), carried: replaced && tracesOf(replaced) });
      if (!this.running) void this.run();
    }

    /** The subgraph ended the subscription: what is pending still goes out first. */
    private end(errors: readonly GraphQLFormattedError[] | null): void {
      this.ending = { errors };
      if (!this.running) void this.run();
    }

    private async run(): Promise<void> {
      this.running = true;
      try {
        while (this.pending.size > 0 && !this.ended) {
          const batch = [...this.pending];
          this.pending.clear();
          // An event the subgraph sent with its trace context is one span for all its clients.
          const spans = batch.map(([, e]) => this.eventSpan(e));
          // The event's span is handed down to the fetches of its resolution in their context (no active context in the gateway).
          const shaped = await Promise.all(batch.map(([key, e], i) => this.resolve(key, e.result, spans[i])));
          batch.forEach(([key, e], i) => {
            const payload = shaped[i];
            // Superseded while it resolved: the newer state that goes out instead carries its trace.
            const newer = payload === null ? this.pending.get(key) : undefined;
            if (newer) newer.carried = tracesOf(e, newer.carried);
            const clients = payload !== null && payload !== undefined ? this.publish(key, payload, e.at) : 0;
            spans[i]?.setAttributes({ 'streamgraph.subscription.clients': clients, 'streamgraph.subscription.superseded': payload === null });
            endSpan(spans[i]);
          });
        }
      } catch (e) {
        opts.logger.error({ err: e }, 'subscription event failed');
        this.ending ??= { errors: [{ message: 'internal error resolving a subscription event', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
      } finally {
        this.running = false;
      }
      if (this.ending && !this.ended && this.pending.size === 0) {
        const { errors } = this.ending;
        const sinks = [...this.sinks];
        this.dispose();
        for (const s of sinks) if (errors) s.error(errors);
        else s.complete();
      }
    }

    /** Hands the payload to every client; how many it reached. */
    private publish(key: string, payloadJson: string, at: bigint): number {
      const keyed = !key.startsWith('#');
      if (keyed) {
        // A resubscription after an upstream restart repeats the current state: not news.
        if (this.latest.get(key) === payloadJson) {
          opts.metrics.events.inc({ outcome: 'unchanged' });
          return 0;
        }
        this.latest.delete(key);
        this.latest.set(key, payloadJson);
        if (this.latest.size > MAX_LATEST) this.latest.delete(this.latest.keys().next().value as string);
      }
      opts.metrics.events.inc({ outcome: 'delivered' });
      opts.metrics.resolveSeconds.observe(Number(process.hrtime.bigint() - at) / 1e9);
      opts.metrics.deliveries.inc(this.sinks.size);
      for (const sink of this.sinks) sink.deliver(payloadJson, keyed ? key : null);
      return this.sinks.size;
    }

    /**
     * The span of one upstream event, continuing the trace the subgraph sent in `extensions`, or
     * else the trace of an event it superseded (that change reaches the clients in this delivery);
     * the other superseded events' traces are links. None traced: no span.
     */
    private eventSpan(e: PendingEvent): Span | undefined {
      const contexts = [e.result.extensions?.[TRACEPARENT], ...(e.carried ?? []).slice().reverse()].flatMap((t) => sampledContextOf(t) ?? []);
      if (contexts.length === 0) return undefined;
      const [parent, ...others] = contexts;
      const links = linksTo(others);
      const { plan, operationName } = this.request;
      return startSpan(`subscription event ${plan.primary.serviceName}`, { 'graphql.operation.type': 'subscription', ...(operationName ? { 'graphql.operation.name': operationName.slice(0, 100) } : {}), 'streamgraph.subscription.group': this.requestId }, { parent, links });
    }

    /** The event with every subgraph's fields, as JSON; null when a newer state superseded it. */
    private async resolve(key: string, event: UpstreamResult, span: Span | undefined): Promise<string | null> {
      const { plan, variables, operationName } = this.request;
      const started = Date.now();
      // Tracing on: the event's span, or the root context for an untraced event (no parent, whatever else is active).
      const trace = tracingEnabled() ? contextOfSpan(span) : undefined;
      for (let attempt = 0; ; attempt++) {
        // Even with nothing to fetch, shaping (aliases, abstract types, nullability) is the
        // executor's, so each payload is exactly what the same query would return.
        const result = await plan.executeEvent(opts.serviceMapFor(plan), event, { operationName, variables }, this.context(trace));
        const unavailable = result.errors?.some((e) => e.extensions?.code === 'SUBGRAPH_UNAVAILABLE') ?? false;
        if (!unavailable || Date.now() - started >= retryMs || this.ended) return stringifyResult(result);
        // A subgraph is restarting: hold this state back rather than send clients an error.
        opts.metrics.retries.inc();
        await delay(Math.min(2000, 100 * 2 ** attempt));
        if (this.pending.has(key) || this.ended) return null;
      }
    }

    private context(trace: GatewayContext['trace']): GatewayContext {
      const now = Date.now();
      // Signed identities live five minutes; re-sign well before, not per event.
      if (!this.signed || now - this.signed.at > 60_000)
        this.signed = { header: signIdentity(this.request.identity, opts.identitySecret), at: now };
      return createGatewayContext(this.requestId, this.request.identity, this.signed.header, null, trace);
    }
  }

  return {
    subscribe(request, sink) {
      // Every stream is shared by the callers the subgraph cannot tell apart. A joiner of a
      // stream of states is brought up to date with the newest state of each object; a joiner
      // of a stream of other events gets the events from the moment it joins.
      const key = [request.plan.supergraph.id, scopeOf(request.identity), request.operationName ?? '', request.queryText, stableJson(request.variables)].join('\n');
      let group = groups.get(key);
      if (!group) {
        group = new Group(key, request);
        groups.set(key, group);
      }
      const joined = group;
      joined.join(sink);
      return () => joined.leave(sink);
    },
    groupCount: () => groups.size,
    close() {
      for (const g of [...groups.values()]) for (const s of [...g.sinks]) g.leave(s);
    },
  };
}

function stringifyResult(result: { data?: unknown; errors?: readonly GraphQLFormattedError[] }): string {
  const out: Record<string, unknown> = { data: result.data ?? null };
  if (result.errors?.length) out.errors = result.errors;
  return JSON.stringify(out);
}

/** JSON with object keys sorted, so equal variables make equal sharing keys. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`)
    .join(',')}}`;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
