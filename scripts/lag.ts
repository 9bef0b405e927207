// `npm run lag -- [view ...] [--max-lag N] [--watch] [--interval S] [--json]`: for every view and
// partition, the offset applied in Redis against the topic's log end, the lag between them
// and how fresh the view is; then the catalog's change data capture: the Debezium connector's
// state (Kafka Connect's REST API) and its replication slot's lag (the catalog database). With
// --max-lag it exits 1 when a partition is over, for scripts.
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { createLogger } from '../platform/logger';
import { connectRedis } from '../platform/redisConfig';
import { namespaceFromEnv } from '../platform/settings';
import { formatViewLag, measureViewLag, overMaxLag, type ViewLag, type ViewTarget } from '../subgraphs/runtime/viewLag';
import { catalogSourceFromEnv } from '../subgraphs/catalog/catalogSource';
import { catalogCdcStatus, formatCatalogCdcStatus } from '../subgraphs/catalog/cdcStatus';
import { declaredViews, findView, viewNames, type ViewEntry } from './declarations';

const VIEWS = declaredViews();
const USAGE = `usage: npm run lag -- [view ...] [--max-lag N] [--watch] [--interval SECONDS] [--json]
views: ${VIEWS.map((v) => v.projection.name).join(', ')}`;

interface Args {
  views: ViewEntry[];
  maxLag?: number;
  watch: boolean;
  intervalS: number;
  json: boolean;
}

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { views: [], watch: false, intervalS: 2, json: false };
  const wholeNumber = (flag: string, raw: string | undefined, min: number) => {
    const n = Number(raw);
    if (raw === undefined || !Number.isInteger(n) || n < min) usage(`${flag} needs a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${raw ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--max-lag':
        args.maxLag = wholeNumber(flag, value(), 0);
        break;
      case '--watch':
        args.watch = true;
        break;
      case '--interval':
        args.intervalS = wholeNumber(flag, value(), 1);
        break;
      case '--json':
        args.json = true;
        break;
      case '--help':
        console.log(USAGE);
        process.exit(0);
      default: {
        if (flag.startsWith('--')) usage(`unknown option ${flag}`);
        const view = findView(flag, VIEWS);
        if (!view) usage(`unknown view ${flag}`);
        args.views.push(view);
      }
    }
  }
  if (args.views.length === 0) args.views = [...VIEWS];
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ns = namespaceFromEnv();
  // Names as the subgraph runtime gives them (see createSubgraphRuntime and scripts/rebuild.ts).
  const targets: ViewTarget[] = args.views.map((v) => viewNames(v, ns));
  const redis = await connectRedis(createLogger('lag', 'warn'));
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  const close = async () => {
    redis.disconnect();
    await admin.disconnect().catch(() => undefined);
  };

  /** Prints one report; resolves to how many partitions are over --max-lag. */
  const report = async (): Promise<number> => {
    const measuredAt = Date.now();
    const views: ViewLag[] = await measureViewLag({ admin, redis, views: targets });
    const over = args.maxLag === undefined ? [] : overMaxLag(views, args.maxLag);
    const cdc = await catalogCdcStatus(catalogSourceFromEnv(), ns);
    if (args.json) {
      console.log(JSON.stringify({ measuredAt: new Date(measuredAt).toISOString(), namespace: ns, views, cdc, ...(args.maxLag === undefined ? {} : { maxLag: args.maxLag, over }) }, null, 2));
      return over.length;
    }
    console.log(`views at ${new Date(measuredAt).toISOString()}${ns ? ` in namespace ${ns}` : ''}\n`);
    for (const line of formatViewLag(views, measuredAt)) console.log(line);
    console.log('\ncatalog change data capture');
    for (const line of formatCatalogCdcStatus(cdc)) console.log(`  ${line}`);
    if (args.maxLag !== undefined)
      console.log(
        over.length === 0
          ? `every partition is within --max-lag ${args.maxLag}`
          : `over --max-lag ${args.maxLag}: ${over.map((o) => (o.partition === null ? `${o.view} (not measured)` : `${o.view}[${o.partition}] lag ${o.lag}`)).join(', ')}`,
      );
    return over.length;
  };

  if (!args.watch) {
    const over = await report();
    await close();
    process.exit(over > 0 ? 1 : 0);
  }
  process.on('SIGINT', () => void close().then(() => process.exit(0)));
  // `npm run lag -- --watch | head` closes the pipe: that is the reader stopping, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') void close().then(() => process.exit(0));
  });
  for (;;) {
    // A terminal gets a screen that refreshes in place; a pipe or log file gets one report after another.
    if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
    await report().catch((e) => console.error(`lag: ${(e as Error).message}; trying again`));
    console.log(`(every ${args.intervalS} s; Ctrl-C stops)`);
    await new Promise((r) => setTimeout(r, args.intervalS * 1000));
  }
}

main().catch((e) => {
  const err = e as Error;
  // kafkajs names the socket error, not the setting behind it.
  const hint = err.name.startsWith('KafkaJS') ? `; is a broker running at KAFKA_BROKERS=${kafkaConfigFromEnv().brokers}? (npm run infra:status)` : '';
  console.error(`lag failed: ${err.message}${hint}`);
  process.exit(1);
});
