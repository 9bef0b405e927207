// `npm run topics`: creates the topics the subgraphs declare (and their dead-letter topics) on
// KAFKA_BROKERS, in STREAMGRAPH_NAMESPACE.
import { ensureTopics } from '../infra/topics';
import { createKafka, kafkaConfigFromEnv, replicationFactorFromEnv } from '../platform/kafkaConfig';
import { namespaceFromEnv } from '../platform/settings';
import { namespacedTopicSpecs } from './declarations';

async function main() {
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  try {
    const specs = namespacedTopicSpecs(namespaceFromEnv());
    const { created } = await ensureTopics(admin, specs, { replicationFactor: replicationFactorFromEnv() });
    for (const s of specs)
      console.log(`${created.includes(s.name) ? 'created ' : 'exists  '} ${s.name} (${s.partitions} partitions, ${s.cleanupPolicy})`);
  } finally {
    await admin.disconnect();
  }
}

main().catch((e) => {
  console.error(`topics: ${(e as Error).message}`);
  process.exit(1);
});
