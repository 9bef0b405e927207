// `npm run rebuild -- <view> [--keep-old]`: replays a view from the start of its topic into a
// new key generation while the live one keeps serving, then switches to it atomically.
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { createLogger } from '../platform/logger';
import { rebuildView } from '../subgraphs/runtime/rebuildView';
import { namespaceFromEnv } from '../platform/settings';
import { redisFromEnv } from '../platform/redisConfig';
import { declaredViews, findView, viewNames } from './declarations';

async function main() {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('--'));
  const views = declaredViews();
  const view = name ? findView(name, views) : undefined;
  if (!view) {
    console.error(`usage: npm run rebuild -- <view> [--keep-old]\nviews: ${views.map((v) => v.projection.name).join(', ')}`);
    process.exit(2);
  }
  const names = viewNames(view, namespaceFromEnv());
  const projection = { ...view.projection, name: names.view };
  const kafka = createKafka(kafkaConfigFromEnv());
  const redis = redisFromEnv();
  const started = Date.now();
  let lastLine = 0;
  const result = await rebuildView({
    kafka,
    redis,
    projection,
    topic: names.topic,
    // The live view's group, as the subgraph runtime names it.
    groupId: names.groupId,
    dropOld: !args.includes('--keep-old'),
    logger: createLogger('rebuild', 'warn'),
    onProgress: ({ applied, lag }) => {
      if (Date.now() - lastLine < 1000) return;
      lastLine = Date.now();
      console.log(`${projection.name}: ${applied} events applied, ${lag} to go (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    },
  });
  console.log(
    `${result.view}: switched ${result.from} -> ${result.to} after ${result.applied} events in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (args.includes('--keep-old') ? ` (kept ${result.from})` : `; deleted ${result.droppedKeys} keys of ${result.from}`),
  );
  redis.disconnect();
}

main().catch((e) => {
  console.error(`rebuild failed: ${(e as Error).message}`);
  process.exit(1);
});
