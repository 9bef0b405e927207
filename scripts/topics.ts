// `npm run topics`: creates the declared topics (and their dead-letter topics) on KAFKA_BROKERS.
import { ensureTopics } from '../infra/topics';
import { allTopicSpecs } from '../schema/events';
import { createKafka, kafkaConfigFromEnv } from '../subgraphs/runtime/kafkaConfig';

async function main() {
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  try {
    const specs = allTopicSpecs();
    const replicationFactor = process.env.KAFKA_REPLICATION_FACTOR ? Number(process.env.KAFKA_REPLICATION_FACTOR) : 1;
    const { created } = await ensureTopics(admin, specs, { replicationFactor });
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
