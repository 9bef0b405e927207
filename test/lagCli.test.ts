// View lag measured from outside against the real broker and Redis: a view behind its topic
// shows how many records per partition it has not applied (and `npm run lag --max-lag`
// fails), and once a projection catches up it shows 0 and the time of the last event.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Admin } from 'kafkajs';
import { ordersProjection } from '../subgraphs/orders/projection';
import { createLogger } from '../platform/logger';
import { startProjection, type ProjectionHandle } from '../subgraphs/runtime/projectionRunner';
import { measureViewLag, overMaxLag, type ViewLag, type ViewTarget } from '../subgraphs/runtime/viewLag';
import { createNamespace } from './support/namespace';
import { createStreamsEnv, orderEvents, produceAll, type StreamsEnv } from './support/streams';
import { waitFor } from './support/waitFor';

const run = promisify(execFile);
let env: StreamsEnv;
let admin: Admin;
let ns: string;
let target: ViewTarget;
let runner: ProjectionHandle | undefined;

beforeAll(async () => {
  ns = await createNamespace('lag-cli');
  env = await createStreamsEnv();
  admin = env.kafka.admin();
  await admin.connect();
  // Named and grouped as the orders subgraph runs it.
  target = { view: `${ns}orders.orders`, topic: `${ns}orders`, groupId: `${ns}orders.orders.orders` };
});

afterAll(async () => {
  await runner?.stop();
  await admin.disconnect();
  await env.close();
});

const measure = async (): Promise<ViewLag> => (await measureViewLag({ admin, redis: env.redis, views: [target] }))[0];

it('shows a view behind its topic with its lag per partition, then 0 once it has caught up', async () => {
  const log = await produceAll(env.producer, target.topic, orderEvents({ seed: 61, count: 40, orders: 12, customers: 4 }));
  const perPartition = new Map<number, typeof log>();
  for (const e of log) perPartition.set(e.at.partition, [...(perPartition.get(e.at.partition) ?? []), e]);

  const behind = await measure();
  expect(behind).toMatchObject({ view: target.view, generation: 'g0', consumers: 0, lag: 40, lastEventAt: null, problem: null });
  expect(behind.partitions).toHaveLength(6);
  for (const p of behind.partitions)
    expect(p).toMatchObject({ checkpoint: null, logStart: 0, logEnd: perPartition.get(p.partition)?.length ?? 0, lag: perPartition.get(p.partition)?.length ?? 0, ahead: false });

  // The CLI, as a script would use it: a non-zero exit when a partition is over --max-lag.
  const failed = await run(process.execPath, ['--import', 'tsx', path.join(__dirname, '../scripts/lag.ts'), 'orders.orders', '--max-lag', '5'], {
    env: { ...process.env, STREAMGRAPH_NAMESPACE: ns, LOG_LEVEL: 'warn' },
  }).then(
    () => null,
    (e: { code: number; stdout: string }) => e,
  );
  expect(failed?.code).toBe(1);
  expect(failed!.stdout).toContain(`${target.view} (topic ${target.topic}, generation g0, 0 consumers): lag 40, no event applied yet`);
  const busiest = [...perPartition].sort((a, b) => b[1].length - a[1].length)[0];
  expect(failed!.stdout).toMatch(new RegExp(`\\n  ${busiest[0]} +- +${busiest[1].length} +${busiest[1].length} +- +- +-\\n`));
  const over = overMaxLag([behind], 5).map((o) => `${o.view}[${o.partition}] lag ${o.lag}`);
  expect(failed!.stdout).toContain(`over --max-lag 5: ${over.join(', ')}\n`);

  runner = await startProjection({
    kafka: env.kafka,
    redis: env.redis,
    projection: { ...ordersProjection, name: target.view },
    topic: target.topic,
    groupId: target.groupId,
    logger: createLogger('test', 'warn'),
  });
  const caughtUp = await waitFor(async () => {
    const m = await measure();
    return m.lag === 0 && m.consumers === 1 ? m : null;
  }, { what: 'the view to catch up' });
  for (const p of caughtUp.partitions) {
    const events = perPartition.get(p.partition) ?? [];
    const last = events[events.length - 1];
    expect(p).toMatchObject({ lag: 0, logEnd: events.length, checkpoint: last ? last.at.offset : null, lastEventAt: last ? last.event.occurredAt : null });
    if (last) expect(p.appliedAt).not.toBeNull();
  }
  expect(caughtUp.lastEventAt).toBe(log.map((e) => e.event.occurredAt).sort().at(-1));
  expect(overMaxLag([caughtUp], 0)).toEqual([]);

  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(__dirname, '../scripts/lag.ts'), 'orders.orders', '--max-lag', '0', '--json'], {
    env: { ...process.env, STREAMGRAPH_NAMESPACE: ns, LOG_LEVEL: 'warn' },
  });
  const json = JSON.parse(stdout) as { views: ViewLag[]; over: unknown[] };
  expect(json.over).toEqual([]);
  expect(json.views[0]).toMatchObject({ view: target.view, lag: 0, consumers: 1, lastEventAt: caughtUp.lastEventAt });
});

it('says why a view cannot be measured and counts it as over any --max-lag', async () => {
  const [missing] = await measureViewLag({ admin, redis: env.redis, views: [{ view: `${ns}nothing`, topic: `${ns}no-such-topic` }] });
  expect(missing).toMatchObject({ lag: null, consumers: null, problem: `topic ${ns}no-such-topic does not exist (npm run topics creates it)` });
  expect(overMaxLag([missing], 1_000_000)).toEqual([{ view: `${ns}nothing`, partition: null, lag: null }]);
});
