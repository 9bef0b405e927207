// `npm run topics`: creates the declared topics (and their dead-letter topics) on KAFKA_BROKERS.
import { ensureTopics } from '../infra/topics';
import { allTopicSpecs } from '../schema/events';
import { createKafka, kafkaConfigFromEnv, replicationFactorFromEnv } from '../platform/kafkaConfig';

async function main() {
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  try {
    const specs = allTopicSpecs();
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
