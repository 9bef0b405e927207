// `npm run dlq -- list|inspect|replay ...`: what is on the dead-letter topics, each dead letter
// with where it came from and why, and a replay of the originals to their source topic once
// the projection is fixed (each dead letter once, however often it runs).
import type { Cluster, Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { describeDeadLetterTopic, inspectDeadLetters, listDeadLetters, replayDeadLetters } from '../subgraphs/runtime/deadLetterTopic';
import { deadLetterTopicFor, formatPosition, snippet, type DeadLetter, type DeadLetterEntry } from '../subgraphs/runtime/deadLetters';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { createLogger } from '../platform/logger';
import { connectRedis as connectCheckedRedis } from '../platform/redisConfig';
import { namespaceFromEnv } from '../platform/settings';
import { formatAge } from '../subgraphs/runtime/viewLag';
import { declaredTopics, declaredViews, subgraphDeclarations, viewNames } from './declarations';

const USAGE = `usage:
  npm run dlq -- list [topic]                      dead letters per topic and partition, by reason and view
  npm run dlq -- inspect <topic> [--limit N] [--from-offset N | P:N,P:N]
                                                   each dead letter: source, reason, time, the original bytes
  npm run dlq -- replay <topic> [--where-reason TEXT] [--dry-run] [--from-start] [--include-partial]
                                                   re-publish the originals to their source topic
<topic> is a source topic (orders) or its dead-letter topic (orders.dlq); STREAMGRAPH_NAMESPACE is added.`;

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

interface Parsed {
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
}

/** `--flag value`, `--flag=value` and bare `--flag`; which flags take a value is up to `valued`. */
function parseArgs(argv: readonly string[], valued: readonly string[], bare: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (!flag.startsWith('--')) positional.push(argv[i]);
    else if (valued.includes(flag)) {
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      flags.set(flag, v);
    } else if (bare.includes(flag)) flags.set(flag, true);
    else usage(`unknown option ${flag}`);
  }
  return { positional, flags };
}

// Set by main(), after the environment is checked (a bad setting ends in one line, not a trace).
let ns = '';
let kafka: Kafka;
let admin: Admin;
let redis: Redis | Cluster | undefined;

/** Redis that answered PING (one line when it does not, no retry noise). */
async function connectRedis(): Promise<Redis | Cluster> {
  redis = await connectCheckedRedis(createLogger('dlq', 'warn'));
  return redis;
}

const seconds = (since: number, digits = 0) => `${((Date.now() - since) / 1000).toFixed(digits)} s`;
const replayPositions = (ranges: ReadonlyArray<{ partition: number; to: number }>) => ranges.map((r) => `offset ${r.to} of partition ${r.partition}`).join(', ');
const quoted = (bytes: Buffer | null) => {
  if (bytes === null) return '(none)';
  const s = snippet(bytes, 80);
  return s.startsWith('hex ') ? s : JSON.stringify(s);
};
/** The views that fold a source topic, so a replay does not re-apply a record some view already applied. */
const consumersOf = (sourceTopic: string) => {
  const views = declaredViews()
    .map((v) => viewNames(v, ns))
    .filter((v) => v.topic === sourceTopic)
    .map((v) => v.view);
  return views.length > 0 ? views : undefined;
};

async function list(args: Parsed) {
  if (args.positional.length > 1) usage('list takes at most one topic');
  const topics = args.positional.length
    ? [deadLetterTopicFor(args.positional[0], ns)]
    : declaredTopics(subgraphDeclarations()).map((t) => deadLetterTopicFor(t.name, ns));
  // Replay positions are a nice-to-have here: without Redis the counts still show.
  const withPositions = await connectRedis().catch((e) => {
    console.log(`(replay positions unknown: ${(e as Error).message})`);
    return undefined;
  });
  const existing = new Set(await admin.listTopics());
  for (const topic of topics) {
    if (!existing.has(topic)) {
      console.log(`${topic}: does not exist (npm run topics creates it)`);
      continue;
    }
    const partitions = await describeDeadLetterTopic(admin, topic, withPositions);
    const stored = partitions.reduce((a, p) => a + p.logEnd - p.logStart, 0);
    if (stored === 0) {
      console.log(`${topic}: empty`);
      continue;
    }
    const started = Date.now();
    let lastLine = Date.now();
    const { summary } = await listDeadLetters({
      kafka,
      admin,
      topic,
      redis: withPositions,
      onProgress: ({ read, total }) => {
        if (Date.now() - lastLine < 1000) return;
        lastLine = Date.now();
        console.log(`${topic}: ${read} of ${total} read (${seconds(started)})`);
      },
    });
    console.log(`${topic}: ${summary.total} dead letter${summary.total === 1 ? '' : 's'}, ${summary.oldest} to ${summary.newest}`);
    for (const p of partitions) {
      if (p.logEnd === p.logStart) continue;
      const replay =
        p.replayedUpTo === null
          ? withPositions
            ? 'never replayed'
            : ''
          : p.replayedUpTo >= p.logEnd
            ? `replayed up to ${p.replayedUpTo} (all)`
            : `replayed up to ${p.replayedUpTo} (${p.logEnd - Math.max(p.replayedUpTo, p.logStart)} newer)`;
      console.log(`  partition ${p.partition}: ${p.logEnd - p.logStart} at offsets ${p.logStart}-${p.logEnd - 1}${replay ? `; ${replay}` : ''}`);
    }
    console.log('  by reason:');
    for (const r of summary.reasons.slice(0, 15)) console.log(`    ${String(r.count).padStart(6)}  ${r.reason}`);
    if (summary.reasons.length > 15) console.log(`    ... and ${summary.reasons.length - 15} more reasons`);
    console.log('  by view:');
    for (const v of summary.views) console.log(`    ${String(v.count).padStart(6)}  ${v.view}`);
    console.log(`  from: ${summary.sources.map((s) => `${s.topic}[${s.partition}] ${s.count}`).join(', ')}`);
  }
}

function printEntry(e: DeadLetterEntry, replayedUpTo: number | null) {
  const age = formatAge(Date.now() - Date.parse(e.deadLetteredAt));
  const replayed = replayedUpTo !== null && e.position.offset < replayedUpTo ? '  (replayed or passed over)' : '';
  console.log(`${formatPosition(e.position)}  ${e.deadLetteredAt} (${age} ago)${replayed}`);
  switch (e.kind) {
    case 'malformed':
      console.log(`  not a dead letter of this project: ${e.problem}`);
      break;
    case 'deadLetter':
      console.log(`  from    ${formatPosition(e.source)}  key ${quoted(e.sourceKey)}  view ${e.view ?? '(unknown)'}`);
      console.log(`  reason  ${e.reason}`);
      break;
  }
  console.log(`  value   ${e.value === null ? '' : `${e.value.length} bytes: `}${snippet(e.value)}`);
}

function parseFromOffset(raw: string | true | undefined): number | Map<number, number> | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return Number(raw);
  const pairs = typeof raw === 'string' ? raw.split(',').map((p) => /^(\d+):(\d+)$/.exec(p.trim())) : [null];
  if (pairs.some((m) => m === null)) usage(`--from-offset takes an offset (N) or partition:offset pairs (0:120,1:40), got ${String(raw)}`);
  return new Map(pairs.map((m) => [Number(m![1]), Number(m![2])]));
}

async function inspect(args: Parsed) {
  if (args.positional.length !== 1) usage('inspect takes one topic');
  const topic = deadLetterTopicFor(args.positional[0], ns);
  const rawLimit = args.flags.get('--limit');
  const limit = rawLimit === undefined ? 20 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1) usage(`--limit needs a whole number of at least 1, got ${String(rawLimit)}`);
  const fromOffset = parseFromOffset(args.flags.get('--from-offset'));
  const withPositions = await connectRedis().catch(() => undefined);
  const page = await inspectDeadLetters({ kafka, admin, topic, redis: withPositions, limit, fromOffset });
  const replayedUpTo = new Map(page.partitions.map((p) => [p.partition, p.replayedUpTo]));
  for (const e of page.entries) printEntry(e, replayedUpTo.get(e.position.partition) ?? null);
  const stored = page.partitions.reduce((a, p) => a + p.logEnd - p.logStart, 0);
  if (page.entries.length === 0) console.log(`${topic}: no dead letters there (${stored} on the topic)`);
  else console.log(`\n${topic}: showing ${page.entries.length} of ${stored} dead letters`);
  if (page.next.size > 0) {
    const from = [...page.next].map(([p, o]) => `${p}:${o}`).join(',');
    console.log(`more: npm run dlq -- inspect ${args.positional[0]} --limit ${limit} --from-offset ${page.next.size === 1 && page.partitions.length === 1 ? [...page.next.values()][0] : from}`);
  }
}

async function replay(args: Parsed) {
  if (args.positional.length !== 1) usage('replay takes one topic');
  const topic = deadLetterTopicFor(args.positional[0], ns);
  const whereReason = args.flags.get('--where-reason');
  if (whereReason === true || whereReason === '') usage('--where-reason needs the text a reason must contain');
  const dryRun = args.flags.has('--dry-run');
  const started = Date.now();
  let lastLine = Date.now();
  const describe = (d: DeadLetter) =>
    `${formatPosition(d.position)} -> ${d.source.topic}[${d.source.partition}] key ${quoted(d.sourceKey)} (${d.value?.length ?? 0} bytes): ${d.reason}`;
  const result = await replayDeadLetters({
    kafka,
    admin,
    redis: await connectRedis(),
    topic,
    whereReason,
    dryRun,
    fromStart: args.flags.has('--from-start'),
    includePartial: args.flags.has('--include-partial'),
    consumersOf,
    onReplay: (d) => {
      if (dryRun) console.log(`would replay ${describe(d)}`);
    },
    onProgress: ({ read, total, replayed }) => {
      if (Date.now() - lastLine < 1000) return;
      lastLine = Date.now();
      console.log(`${topic}: ${read} of ${total} read, ${replayed} ${dryRun ? 'to replay' : 'replayed'} (${seconds(started)})`);
    },
  });
  for (const p of result.problems) console.log(p);
  const handled = result.ranges.filter((r) => r.to > r.from);
  if (result.read === 0) {
    console.log(`${topic}: nothing to replay: every dead letter up to the log end (${replayPositions(result.ranges)}) was replayed or passed over; --from-start replays from the log start`);
    return;
  }
  const verb = dryRun ? 'would replay' : 'replayed';
  const parts = [
    `${verb} ${result.replayed} record${result.replayed === 1 ? '' : 's'} to their source topic`,
    `${result.duplicates} duplicate dead letter${result.duplicates === 1 ? '' : 's'} (the same record failed in several views)`,
  ];
  if (whereReason !== undefined) parts.push(`${result.notMatching} not matching --where-reason ${JSON.stringify(whereReason)}`);
  if (result.malformed > 0) parts.push(`${result.malformed} malformed`);
  parts.push(`${result.heldBack} held back`);
  const where = handled.map((r) => `partition ${r.partition}: offsets ${r.from}-${r.to - 1}`).join(', ');
  console.log(`${topic}: read ${result.read} dead letter${result.read === 1 ? '' : 's'} (${where}) in ${seconds(started, 1)}; ${parts.join('; ')}`);
  for (const h of result.held.slice(0, 20)) {
    const rebuild = h.failedIn.map((v) => `npm run rebuild -- ${v.startsWith(ns) ? v.slice(ns.length) : v}`).join(' / ');
    console.log(
      `held back ${formatPosition(h.deadLetter.source)} (dead letter ${formatPosition(h.deadLetter.position)}): it failed in ${h.failedIn.join(', ') || 'an unnamed view'} ` +
        `but ${h.notIn.join(', ')} also read${h.notIn.length === 1 ? 's' : ''} it, and a replay would apply it there again; fix and rebuild instead (${rebuild}), or pass --include-partial`,
    );
  }
  if (result.held.length > 20) console.log(`... and ${result.held.length - 20} more held back`);
  console.log(
    dryRun
      ? 'dry run: nothing was published and the replay position did not move'
      : `the replay position is now ${replayPositions(result.ranges)}: a second run replays only newer dead letters (--from-start replays everything again)`,
  );
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const commands: Record<string, { valued: string[]; bare: string[]; run: (a: Parsed) => Promise<void> }> = {
    list: { valued: [], bare: [], run: list },
    inspect: { valued: ['--limit', '--from-offset'], bare: [], run: inspect },
    replay: { valued: ['--where-reason'], bare: ['--dry-run', '--from-start', '--include-partial'], run: replay },
  };
  if (command === '--help' || command === 'help') {
    console.log(USAGE);
    return;
  }
  const chosen = command !== undefined && Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!chosen) usage(command === undefined ? 'which command?' : `unknown command ${command}`);
  const args = parseArgs(rest, chosen.valued, chosen.bare);
  ns = namespaceFromEnv();
  kafka = createKafka(kafkaConfigFromEnv());
  admin = kafka.admin();
  await admin.connect();
  try {
    await chosen.run(args);
  } finally {
    redis?.disconnect();
    await admin.disconnect().catch(() => undefined);
  }
}

main().catch((e) => {
  const err = e as Error;
  // kafkajs names the socket error, not the setting behind it.
  const hint = err.name.startsWith('KafkaJS') ? `; is a broker running at KAFKA_BROKERS=${kafkaConfigFromEnv().brokers}? (npm run infra:status)` : '';
  console.error(`dlq failed: ${err.message}${hint}`);
  process.exit(1);
});
