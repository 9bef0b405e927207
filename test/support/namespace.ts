// An isolated copy of the product's topics for one test file: every topic the subgraphs
// declare (and its dead-letter topic) under a unique prefix, so subgraphs started with that
// namespace share nothing with other tests.
import { ensureTopics } from '../../infra/topics';
import { topicSpecsWithDeadLetters, type TopicSpec } from '../../schema/events';
import { createKafka, kafkaConfigFromEnv } from '../../platform/kafkaConfig';
import { declaredTopics, subgraphDeclarations } from '../../scripts/declarations';
import { uniqueName } from './waitFor';

/** `topics`: more topics to create, e.g. those of a subgraph outside subgraphs/ (a scaffold written elsewhere). */
export async function createNamespace(label: string, topics: readonly TopicSpec[] = []): Promise<string> {
  const ns = `${uniqueName(label)}.`;
  const specs = topicSpecsWithDeadLetters([...declaredTopics(subgraphDeclarations()), ...topics]);
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, specs.map((s) => ({ ...s, name: `${ns}${s.name}` })), { warn: () => undefined });
  } finally {
    await admin.disconnect();
  }
  return ns;
}
