// An isolated copy of the product's topics for one test file: every declared topic (and
// its dead-letter topic) under a unique prefix, so subgraphs started with that namespace
// share nothing with other tests.
import { ensureTopics } from '../../infra/topics';
import { allTopicSpecs } from '../../schema/events';
import { createKafka, kafkaConfigFromEnv } from '../../platform/kafkaConfig';
import { uniqueName } from './waitFor';

export async function createNamespace(label: string): Promise<string> {
  const ns = `${uniqueName(label)}.`;
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, allTopicSpecs().map((s) => ({ ...s, name: `${ns}${s.name}` })), { warn: () => undefined });
  } finally {
    await admin.disconnect();
  }
  return ns;
}
