// One run of the subscription benchmark: a fresh gateway process, K graphql-ws clients in one or
// two client processes following M orders (each order's clients use its customer's token), all
// first states in, then OrderEtaUpdated events at R per second: a warm-up, the measured window,
// a drain, and the count of clients whose last version is not the view's.
import os from 'node:os';
import { signDevToken } from '../../gateway/token';
import type { EventProducer } from '../../subgraphs/runtime/producer';
import { cpuMs, treeCpuMs, treePeakRssMb, type ChildHandle } from '../gateway/childProcess';
import { machine, round } from '../stats';
import type { BenchOptions, ClientIdentity, GatewayName, RunSpec } from './benchOptions';
import { startEtaProduction } from './etaProducer';
import { startFleet, type Fleet } from './fleet';
import type { FleetClientSpec, FleetStatus } from './fleetProtocol';
import { startGatewayUnderTest } from './gatewayUnderTest';
import { createLatencyHistogram } from './latencyHistogram';
import { busyCores, infraPids, sampleMachineCpu, stolenCores } from './machineCpu';
import { retransmittedSegments } from './tcpRetransmits';
import { DEFAULT_CONNECT_PORT } from '../../infra/connect';
import { DEFAULTS as POSTGRES_DEFAULTS } from '../../infra/postgres';
import { readOrders, type OrderFacts } from './ordersView';
import { histogramQuantileBetween, readMetrics, type MetricsReading } from './promMetrics';

/** Every payload must carry fields of all three subgraphs: the order, its customer, its products' names and stock. */
export const TRACK =
  'subscription Track($id: ID!, $store: ID!) { orderUpdated(id: $id) { id status version estimatedDeliveryAt ' +
  'customer { name orderCount } items { quantity product { name availability(storeId: $store) { quantity } } } } }';

/** What every run shares: the namespace's subgraphs, the producer and the secrets. */
export interface BenchStack {
  readonly namespace: string;
  readonly env: NodeJS.ProcessEnv;
  readonly subgraphs: { readonly customers: ChildHandle; readonly catalog: ChildHandle; readonly orders: ChildHandle };
  readonly producer: EventProducer;
  readonly supergraphFile: string;
  readonly identitySecret: string;
  readonly jwtSecret: string;
  /** The store every subscription asks the availability of. */
  readonly store: string;
  /** Processes the benchmark stops on exit, whatever happens; each run adds its gateway. */
  readonly children: ChildHandle[];
}

export interface RunResult {
  readonly gateway: GatewayName;
  readonly identity: ClientIdentity;
  readonly clients: number;
  readonly orders: number;
  readonly targetEventsPerSecond: number;
  /** Events acknowledged by Kafka whose produce time fell in the window, per second. */
  readonly eventsPerSecond: number;
  /** Complete payloads received by all clients in the window, per second. */
  readonly deliveredPerSecond: number;
  /** eventsPerSecond x clients per order: every client receiving every version. */
  readonly expectedDeliveredPerSecond: number;
  /** Produce time to the client holding that version or a newer one, per client and version produced in the window. */
  readonly latencyMsP50: number;
  readonly latencyMsP90: number;
  readonly latencyMsP99: number;
  readonly latencyMsMax: number;
  readonly latencySamples: number;
  /** Samples for versions a client never got by the end (counted with the time waited): the quantiles they reach are lower bounds. */
  readonly latencyCensored: number;
  /** Produce time to receipt of exactly that version, over the versions delivered as such (conflation skips others). */
  readonly exactVersionLatencyMsP50: number;
  readonly exactVersionLatencyMsP99: number;
  readonly exactVersionLatencySamples: number;
  /** Clients whose last version differs from the orders view's once the drain is over. */
  readonly lostUpdates: number;
  /** From the end of production until every client held the view's version; null if not within the drain. */
  readonly convergedAfterSec: number | null;
  readonly incompleteDeliveries: number;
  readonly deliveriesWithErrors: number;
  readonly staleDeliveries: number;
  readonly skippedVersions: number;
  readonly unmatchedVersions: number;
  readonly upstreamSubscriptions: number;
  readonly gatewayPeakRssMb: number;
  readonly gatewayCpuCoreShare: number;
  readonly cpuCoreShare: Record<string, number>;
  /** TCP segments the machine retransmitted in the window (null: /proc/net/snmp unreadable). */
  readonly tcpRetransmitsInWindow: number | null;
  readonly subscribeSeconds: number;
  readonly clientCloses: number;
  readonly subscriptionErrors: number;
  readonly produceFailures: number;
  readonly viewVersionMismatches: number;
  readonly clientProcesses: number;
  readonly warmupSec: number;
  readonly windowSec: number;
  readonly durationSec: number;
  readonly machine: Record<string, unknown>;
  readonly firstClientError: string | null;
  /** This gateway's own counters over the window (Hive Gateway exposes none). */
  readonly gatewayMetrics: Record<string, number | string | null> | null;
  /** The customers and catalog subgraphs' own view of the entity fetches in the window (server time only). */
  readonly entitySubgraphs: Record<'customers' | 'catalog', Record<string, number | string | null>>;
}

/** Counted by every subgraph for each graphql-ws subscribe it accepts (resubscriptions included). */
const UPSTREAM_STARTED = 'streamgraph_subgraph_subscriptions_started_total';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runWorkload(spec: RunSpec, orders: readonly OrderFacts[], stack: BenchStack, options: BenchOptions): Promise<RunResult> {
  const startedAt = Date.now();
  const runMachine = { ...machine(), loadAverage1mAtStart: round(os.loadavg()[0]!) };
  const ordersUrl = stack.subgraphs.orders.url;
  const ordersMetrics = ordersUrl.replace(/\/graphql$/, '/metrics');
  const upstreamBefore = (await readMetrics(ordersMetrics)).sum(UPSTREAM_STARTED);
  const gateway = await startGatewayUnderTest({
    name: spec.gateway,
    env: stack.env,
    jwtSecret: stack.jwtSecret,
    supergraphFile: stack.supergraphFile,
    subgraphCount: 3,
    profileDir: options.profileDir,
  });
  stack.children.push(gateway.process);
  const fleets: Fleet[] = [];
  try {
    // customer: a customer following their own order on several devices; staff: dispatch
    // boards following every order under one shopper account. Either way an order's clients
    // send identical subscriptions.
    const tokens = new Map<string, string>();
    const staff = `Bearer ${signDevToken({ sub: 'dispatch-board', roles: ['shopper'], secret: stack.jwtSecret, expiresInSec: 4 * 3600 })}`;
    const authorization = (customerId: string) => {
      if (spec.identity === 'staff') return staff;
      let t = tokens.get(customerId);
      if (!t) tokens.set(customerId, (t = `Bearer ${signDevToken({ sub: customerId, roles: ['customer'], secret: stack.jwtSecret, expiresInSec: 4 * 3600 })}`));
      return t;
    };
    const clientSpecs: FleetClientSpec[] = Array.from({ length: spec.clients }, (_, j) => {
      const slot = j % spec.orders;
      return { slot, orderId: orders[slot]!.id, authorization: authorization(orders[slot]!.customerId) };
    });
    const processes = Math.min(spec.clients, options.clientProcesses ?? (spec.clients > 2000 ? 2 : 1));
    for (let p = 0; p < processes; p++) fleets.push(await startFleet(`clients-${p + 1}`));

    console.log(`${spec.gateway}: ${spec.clients} clients (${spec.identity}) over ${spec.orders} orders (${processes} client process${processes > 1 ? 'es' : ''}) subscribing`);
    const subscribeStarted = performance.now();
    await Promise.all(
      fleets.map((f, p) =>
        f.start({
          url: gateway.wsUrl,
          query: TRACK,
          store: stack.store,
          clients: clientSpecs.filter((_, j) => j % processes === p),
          connectConcurrency: options.connectConcurrency,
          localAddress: options.localAddresses.length > 0 ? options.localAddresses[p % options.localAddresses.length]! : null,
        }),
      ),
    );
    await waitForFirstStates(fleets, spec.clients, options.connectTimeoutSeconds);
    const subscribeSeconds = (performance.now() - subscribeStarted) / 1000;
    console.log(`${spec.gateway}: every client has its first state after ${round(subscribeSeconds, 1)} s; producing ${spec.rate} events/s`);

    const baseVersions = (await readOrders(ordersUrl, orders.map((o) => o.id), stack.identitySecret)).map((o) => o.version);
    const production = startEtaProduction({
      producer: stack.producer,
      namespace: stack.namespace,
      targets: orders.map((o) => ({ orderId: o.id, customerId: o.customerId, storeId: o.storeId })),
      rate: spec.rate,
    });
    await sleep(options.warmupSeconds * 1000);

    const pids = {
      gateway: gateway.process.pid,
      orders: stack.subgraphs.orders.pid,
      customers: stack.subgraphs.customers.pid,
      catalog: stack.subgraphs.catalog.pid,
    };
    const infra = infraPids(servicePorts());
    // With their children: PostgreSQL's backends and background workers (those living at each sample).
    const cpuOfAll = (ps: readonly number[]) => ps.reduce((sum, p) => sum + treeCpuMs(p), 0);
    const cpuOf = () => {
      const own = process.cpuUsage();
      return {
        kafka: cpuOfAll(infra.kafka),
        redis: cpuOfAll(infra.redis),
        connectAndPostgres: cpuOfAll(infra.connectAndPostgres),
        // With GATEWAY_WORKERS the gateway is a primary and its workers: all of them count.
        gateway: treeCpuMs(pids.gateway),
        orders: cpuMs(pids.orders),
        customers: cpuMs(pids.customers),
        catalog: cpuMs(pids.catalog),
        clients: fleets.reduce((sum, f) => sum + cpuMs(f.pid), 0),
        // This process: the producer, its Kafka client and the bookkeeping.
        producer: (own.user + own.system) / 1000,
      };
    };
    const gatewayMetricsUrl = spec.gateway === 'streamgraph' ? gateway.process.url.replace(/\/graphql$/, '/metrics') : null;
    const metricsStart = gatewayMetricsUrl ? await readMetrics(gatewayMetricsUrl) : null;
    const entityMetricsUrls = [stack.subgraphs.customers.url, stack.subgraphs.catalog.url].map((u) => u.replace(/\/graphql$/, '/metrics'));
    const entityStart = await Promise.all(entityMetricsUrls.map(readMetrics));
    const windowStart = now();
    const cpuStart = cpuOf();
    const machineStart = sampleMachineCpu();
    const retransStart = retransmittedSegments();
    await sleep(options.seconds * 1000);
    const windowEnd = now();
    const cpuEnd = cpuOf();
    const machineEnd = sampleMachineCpu();
    const retransEnd = retransmittedSegments();
    const metricsEnd = gatewayMetricsUrl ? await readMetrics(gatewayMetricsUrl) : null;
    const entityEnd = await Promise.all(entityMetricsUrls.map(readMetrics));
    const windowSec = (windowEnd - windowStart) / 1000;
    const produced = await production.stop();
    const productionStopped = performance.now();
    console.log(`${spec.gateway}: window over (${produced.sent} events sent); waiting up to ${options.drainSeconds} s for clients to converge`);

    // The truth at the end: the view's version of every order, once it has applied every event.
    const drainDeadline = Date.now() + options.drainSeconds * 1000;
    const expected = baseVersions.map((v, slot) => v + produced.producedAt[slot]!.length);
    let viewVersions = expected;
    let viewVersionMismatches = 0;
    for (;;) {
      viewVersions = (await readOrders(ordersUrl, orders.map((o) => o.id), stack.identitySecret)).map((o) => o.version);
      viewVersionMismatches = viewVersions.filter((v, slot) => v !== expected[slot]).length;
      if (viewVersionMismatches === 0 || Date.now() > drainDeadline) break;
      await sleep(200);
    }
    let lostUpdates = 0;
    let convergedAfterSec: number | null = null;
    for (;;) {
      const checks = await Promise.all(fleets.map((f) => f.check(viewVersions)));
      lostUpdates = checks.reduce((sum, c) => sum + c.behind + c.ahead, 0);
      if (lostUpdates === 0) convergedAfterSec = round((performance.now() - productionStopped) / 1000, 1);
      if (lostUpdates === 0 || Date.now() > drainDeadline) break;
      await sleep(250);
    }

    const summaries = await Promise.all(
      fleets.map((f) => f.summarise({ baseVersions, producedAt: produced.producedAt, windowStart, windowEnd })),
    );
    const statuses = await Promise.all(fleets.map((f) => f.status()));
    const latency = createLatencyHistogram();
    const exactLatency = createLatencyHistogram();
    for (const s of summaries) {
      latency.merge(s.latency);
      exactLatency.merge(s.exactLatency);
    }
    const sum = (key: keyof (typeof summaries)[number]) => summaries.reduce((n, s) => n + (s[key] as number), 0);
    const upstreamSubscriptions = (await readMetrics(ordersMetrics)).sum(UPSTREAM_STARTED) - upstreamBefore;
    const share = (key: keyof typeof cpuEnd) => round((cpuEnd[key] - cpuStart[key]) / 1000 / windowSec, 3);
    const eventsPerSecond = produced.ackedBetween(windowStart, windowEnd) / windowSec;

    return {
      gateway: spec.gateway,
      identity: spec.identity,
      clients: spec.clients,
      orders: spec.orders,
      targetEventsPerSecond: spec.rate,
      eventsPerSecond: round(eventsPerSecond, 1),
      deliveredPerSecond: round(sum('deliveredInWindow') / windowSec, 1),
      expectedDeliveredPerSecond: round((eventsPerSecond * spec.clients) / spec.orders, 1),
      latencyMsP50: round(latency.quantile(0.5), 1),
      latencyMsP90: round(latency.quantile(0.9), 1),
      latencyMsP99: round(latency.quantile(0.99), 1),
      latencyMsMax: round(latency.quantile(1), 1),
      latencySamples: latency.count(),
      latencyCensored: sum('latencyCensored'),
      exactVersionLatencyMsP50: round(exactLatency.quantile(0.5), 1),
      exactVersionLatencyMsP99: round(exactLatency.quantile(0.99), 1),
      exactVersionLatencySamples: exactLatency.count(),
      lostUpdates,
      convergedAfterSec,
      incompleteDeliveries: sum('incompleteDeliveries'),
      deliveriesWithErrors: sum('deliveriesWithErrors'),
      staleDeliveries: sum('staleDeliveries'),
      skippedVersions: sum('skippedVersions'),
      unmatchedVersions: sum('unmatchedVersions'),
      upstreamSubscriptions,
      gatewayPeakRssMb: round(treePeakRssMb(gateway.process.pid), 1),
      gatewayCpuCoreShare: share('gateway'),
      cpuCoreShare: {
        gateway: share('gateway'),
        ordersSubgraph: share('orders'),
        customersSubgraph: share('customers'),
        catalogSubgraph: share('catalog'),
        clients: share('clients'),
        benchAndProducer: share('producer'),
        kafka: share('kafka'),
        redis: share('redis'),
        connectAndPostgres: share('connectAndPostgres'),
        wholeMachine: round(busyCores(machineStart, machineEnd, os.cpus().length), 3),
        stolenByHypervisor: round(stolenCores(machineStart, machineEnd, os.cpus().length), 3),
      },
      // Spurious on loopback: an acknowledgement 200 ms late each (tcpRetransmits.ts).
      tcpRetransmitsInWindow: retransStart === null || retransEnd === null ? null : retransEnd - retransStart,
      subscribeSeconds: round(subscribeSeconds, 1),
      clientCloses: statuses.reduce((n, s) => n + s.closed, 0),
      subscriptionErrors: statuses.reduce((n, s) => n + s.subscriptionErrors, 0),
      produceFailures: produced.failed,
      viewVersionMismatches,
      clientProcesses: processes,
      warmupSec: options.warmupSeconds,
      windowSec: round(windowSec, 2),
      durationSec: round((Date.now() - startedAt) / 1000, 1),
      machine: runMachine,
      firstClientError: statuses.find((s) => s.firstError)?.firstError ?? null,
      gatewayMetrics: metricsStart && metricsEnd ? gatewayWindowMetrics(metricsStart, metricsEnd, windowSec) : null,
      entitySubgraphs: {
        customers: entitySubgraphSummary(entityStart[0]!, entityEnd[0]!, windowSec),
        catalog: entitySubgraphSummary(entityStart[1]!, entityEnd[1]!, windowSec),
      },
    };
  } finally {
    await Promise.all(fleets.map((f) => f.stop().catch(() => undefined)));
    const exit = await gateway.process.stop();
    if (exit !== 'code 0') console.warn(`${spec.gateway}: not a clean exit on SIGTERM (${exit})`);
  }
}

/** Until every client holds its first state; fails early once clients have closed, loudly at the deadline. */
async function waitForFirstStates(fleets: readonly Fleet[], clients: number, timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let lastLog = Date.now();
  for (;;) {
    const statuses = await Promise.all(fleets.map((f) => f.status()));
    const total = (key: keyof FleetStatus) => statuses.reduce((n, s) => n + (s[key] as number), 0);
    const firstError = statuses.find((s) => s.firstError)?.firstError ?? null;
    if (total('withFirstState') >= clients) return;
    if (total('closed') + total('subscriptionErrors') > 0)
      throw new Error(`${total('closed')} clients closed and ${total('subscriptionErrors')} subscriptions failed while subscribing; first: ${firstError}`);
    if (Date.now() > deadline)
      throw new Error(`after ${timeoutSeconds} s only ${total('withFirstState')} of ${clients} clients have their first state (${total('acked')} acknowledged); first error: ${firstError}`);
    if (Date.now() - lastLog >= 5_000) {
      lastLog = Date.now();
      console.log(`  ${total('acked')} acknowledged, ${total('withFirstState')} with their first state`);
    }
    await sleep(250);
  }
}

/** What this gateway's subscription metrics say about the window: where its part of the latency goes. */
function gatewayWindowMetrics(before: MetricsReading, after: MetricsReading, windowSec: number): Record<string, number | string | null> {
  const delta = (name: string, labels?: (l: string) => boolean) => after.sum(name, labels) - before.sum(name, labels);
  const outcome = (o: string) => (l: string) => l.includes(`outcome="${o}"`);
  const events = 'streamgraph_gateway_subscription_events_total';
  const batch = 'streamgraph_gateway_subscription_entity_batch_size';
  const resolve = 'streamgraph_gateway_subscription_resolve_seconds';
  const fetch = 'streamgraph_gateway_subgraph_fetch_duration_seconds';
  return {
    upstreamEventsDeliveredPerSecond: round(delta(events, outcome('delivered')) / windowSec, 1),
    upstreamEventsSupersededPerSecond: round(delta(events, outcome('superseded')) / windowSec, 1),
    upstreamEventsUnchangedPerSecond: round(delta(events, outcome('unchanged')) / windowSec, 1),
    clientDeliveriesPerSecond: round(delta('streamgraph_gateway_subscription_deliveries_total') / windowSec, 1),
    conflatedInClientQueuesPerSecond: round(delta('streamgraph_gateway_ws_conflated_total') / windowSec, 1),
    entityFetchesPerSecond: round(delta(`${batch}_count`) / windowSec, 1),
    eventsPerEntityFetch: round(delta(`${batch}_sum`) / Math.max(1, delta(`${batch}_count`)), 2),
    // From an upstream event reaching the gateway to its payload handed to the client queues.
    resolveMsP50: histogramQuantileBetween(before, after, resolve, 0.5, 1000),
    resolveMsP99: histogramQuantileBetween(before, after, resolve, 0.99, 1000),
    // A subgraph call as the gateway times it: waiting for a pooled connection included.
    subgraphFetchMsP50: histogramQuantileBetween(before, after, fetch, 0.5, 1000),
    subgraphFetchMsP99: histogramQuantileBetween(before, after, fetch, 0.99, 1000),
    // Per subgraph: the gap between this and the subgraph's own time is queueing on either side.
    customersFetchMsP99: histogramQuantileBetween(before, after, fetch, 0.99, 1000, (l) => l.includes('subgraph="customers"')),
    catalogFetchMsP99: histogramQuantileBetween(before, after, fetch, 0.99, 1000, (l) => l.includes('subgraph="catalog"')),
    // Events held back because an entity fetch found a subgraph unavailable.
    retriesPerSecond: round(delta('streamgraph_gateway_subscription_retries_total') / windowSec, 1),
  };
}

/** A subgraph's requests in the window as it times them itself (from request to response written). */
function entitySubgraphSummary(before: MetricsReading, after: MetricsReading, windowSec: number): Record<string, number | string | null> {
  const duration = 'streamgraph_subgraph_request_duration_seconds';
  return {
    requestsPerSecond: round((after.sum(`${duration}_count`) - before.sum(`${duration}_count`)) / windowSec, 1),
    serverMsP50: histogramQuantileBetween(before, after, duration, 0.5, 1000),
    serverMsP99: histogramQuantileBetween(before, after, duration, 0.99, 1000),
  };
}

/** The ports of the services this run's processes use (the same settings they read). */
function servicePorts() {
  const portsOf = (list: string) => list.split(',').flatMap((hostPort) => Number(hostPort.trim().split(':').pop()) || []);
  return {
    kafka: portsOf(process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'),
    redis: [Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379)],
    connectAndPostgres: [DEFAULT_CONNECT_PORT, POSTGRES_DEFAULTS.port],
  };
}

