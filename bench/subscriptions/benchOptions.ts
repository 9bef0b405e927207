// The subscription benchmark's command line: the default runs, or one size run on each chosen
// gateway. Mistakes fail at start with a line saying what was wrong.
import path from 'node:path';
import { parseArgs } from 'node:util';

export type GatewayName = 'streamgraph' | 'hive';
const GATEWAY_NAMES: readonly GatewayName[] = ['streamgraph', 'hive'];

export interface RunSpec {
  readonly gateway: GatewayName;
  readonly clients: number;
  readonly orders: number;
  /** OrderEtaUpdated events per second over all the run's orders. */
  readonly rate: number;
  /**
   * Who the clients are. `customer`: each order's clients use that order's customer's token
   * (one customer on several devices); sharing happens per order and entity fetches cannot be
   * batched across orders, since each customer is a different caller. `staff`: every client
   * uses one shopper token (dispatch boards following orders), so entity fetches of events
   * that arrive together are batched across orders.
   */
  readonly identity: ClientIdentity;
}

export type ClientIdentity = 'customer' | 'staff';
const IDENTITIES: readonly ClientIdentity[] = ['customer', 'staff'];

export interface BenchOptions {
  readonly runs: readonly RunSpec[];
  /** The measured window, after every client has its first state and the warm-up. */
  readonly seconds: number;
  /** Production before the window: JIT, pools and batching settle. */
  readonly warmupSeconds: number;
  /** After production stops, how long clients may take to converge on the view's versions. */
  readonly drainSeconds: number;
  /** How long every client may take to connect and get its first state. */
  readonly connectTimeoutSeconds: number;
  /** Client processes; default 1 up to 2,000 clients, else 2. */
  readonly clientProcesses: number | null;
  /** Loopback addresses the client processes connect from, in turn (--local-addresses). */
  readonly localAddresses: readonly string[];
  readonly connectConcurrency: number;
  /** Write CPU profiles of each gateway and subgraph process here (on exit). */
  readonly profileDir: string | null;
  /** Where the results go; trial runs can keep the reference file intact. */
  readonly out: string;
}

export const USAGE = `usage: tsx bench/subscriptions.ts [options]
  with no size options, five runs: streamgraph 10,000 clients / 1,000 orders / 1,000 events/s as
  staff and as customers; then at 1,000 / 100 / 1,000 streamgraph as staff and as customers, and
  hive (which forwards one admin identity for everybody)
  --clients N --orders M [--rate R]   one run of that size on each of --gateways instead
  --gateways streamgraph,hive         which gateways (default: both; filters the default runs too)
  --identity customer|staff           who the clients are (default: customer for sized runs)
  --seconds S            measured window (default 30)
  --warmup S             production before the window (default 5)
  --drain S              wait for clients to converge after production (default 20)
  --connect-timeout S    for every client to get its first state (default 300)
  --client-processes N   (default 1 up to 2,000 clients, else 2)
  --local-addresses A,B  loopback addresses the client processes connect from in turn (e.g.
                         127.0.0.2,127.0.0.3: one address has about 28,000 ephemeral ports)
  --connect-concurrency N  handshakes in flight per client process (default 200)
  --profile-dir DIR      CPU profiles of each gateway and subgraph process (node --cpu-prof)
  --out FILE             results file (default bench/results/subscriptions.json)`;

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      clients: { type: 'string' },
      orders: { type: 'string' },
      rate: { type: 'string' },
      gateways: { type: 'string' },
      identity: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      drain: { type: 'string' },
      'connect-timeout': { type: 'string' },
      'client-processes': { type: 'string' },
      'local-addresses': { type: 'string' },
      'connect-concurrency': { type: 'string' },
      'profile-dir': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: keyof typeof values, fallback: number, min: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isFinite(n) || n < min) throw new Error(`--${name} ${String(raw)}: expected a number of at least ${min}\n${USAGE}`);
    return n;
  };
  const gateways = (values.gateways ?? GATEWAY_NAMES.join(',')).split(',').map((g) => g.trim());
  const unknown = gateways.filter((g) => !(GATEWAY_NAMES as readonly string[]).includes(g));
  if (unknown.length) throw new Error(`--gateways: unknown ${unknown.join(', ')}; choose from ${GATEWAY_NAMES.join(', ')}`);

  const identity = (values.identity ?? 'customer') as ClientIdentity;
  if (!IDENTITIES.includes(identity)) throw new Error(`--identity ${identity}: choose from ${IDENTITIES.join(', ')}`);
  let runs: RunSpec[];
  if (values.clients !== undefined || values.orders !== undefined || values.rate !== undefined) {
    const clients = Math.round(num('clients', 1000, 1));
    const orders = Math.round(num('orders', 100, 1));
    if (orders > clients) throw new Error(`--orders ${orders} is more than --clients ${clients}: every order needs a client`);
    runs = gateways.map((gateway) => ({ gateway: gateway as GatewayName, clients, orders, rate: num('rate', 1000, 1), identity }));
  } else {
    const defaults: RunSpec[] = [
      { gateway: 'streamgraph', clients: 10_000, orders: 1_000, rate: 1_000, identity: 'staff' },
      { gateway: 'streamgraph', clients: 10_000, orders: 1_000, rate: 1_000, identity: 'customer' },
      { gateway: 'streamgraph', clients: 1_000, orders: 100, rate: 1_000, identity: 'staff' },
      { gateway: 'streamgraph', clients: 1_000, orders: 100, rate: 1_000, identity: 'customer' },
      { gateway: 'hive', clients: 1_000, orders: 100, rate: 1_000, identity: 'staff' },
    ];
    runs = defaults.filter((r) => gateways.includes(r.gateway));
  }
  return {
    runs,
    seconds: num('seconds', 30, 1),
    warmupSeconds: num('warmup', 5, 0),
    drainSeconds: num('drain', 20, 1),
    connectTimeoutSeconds: num('connect-timeout', 300, 10),
    clientProcesses: values['client-processes'] === undefined ? null : Math.round(num('client-processes', 1, 1)),
    localAddresses: typeof values['local-addresses'] === 'string' ? values['local-addresses'].split(',').map((a) => a.trim()).filter(Boolean) : [],
    connectConcurrency: Math.round(num('connect-concurrency', 200, 1)),
    profileDir: values['profile-dir'] ?? null,
    out: path.resolve(values.out ?? path.join(__dirname, '..', 'results', 'subscriptions.json')),
  };
}
