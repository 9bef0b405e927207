// Removes what a benchmark namespace left on the shared broker, Redis and catalog database: its
// topics, its consumer groups (once their members have gone), its views, generations and
// registry, and its Debezium connector, replication slot, publication and schema (a slot left
// behind holds PostgreSQL's WAL for good).
import { deleteMatching } from '../../subgraphs/runtime/deleteMatching';
import { createKafka, kafkaConfigFromEnv } from '../../platform/kafkaConfig';
import { redisFromEnv } from '../../platform/redisConfig';
import { removeRunCatalogSources } from '../../test/support/catalogDatabase';

export async function deleteNamespace(namespace: string): Promise<void> {
  // The connector first: a running one would take its slot again.
  await removeRunCatalogSources(namespace).catch((e: Error) => console.warn(`catalog sources of ${namespace} not removed: ${e.message}`));
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(namespace)) }).catch(() => undefined);
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(namespace));
    // A process that exits without leaving its groups stays a member until its session times
    // out, and a group with members cannot be deleted: wait for them to empty.
    const deadline = Date.now() + 45_000;
    while (groups.length && Date.now() < deadline) {
      const { groups: described } = await admin.describeGroups(groups);
      if (described.every((g) => g.members.length === 0)) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    if (groups.length)
      await admin.deleteGroups(groups).catch((e: Error & { groups?: Array<{ groupId: string; error?: { type?: string } }> }) => {
        // The broker drops an empty group without committed offsets by itself: already gone is fine.
        const why = e.groups?.filter((g) => g.error && g.error.type !== 'GROUP_ID_NOT_FOUND').map((g) => `${g.groupId}: ${g.error?.type}`);
        if (why === undefined || why.length > 0) console.warn(`consumer groups of ${namespace} not deleted: ${e.message}${why?.length ? ` (${why.join(', ')})` : ''}`);
      });
  } finally {
    await admin.disconnect();
  }
  const redis = redisFromEnv();
  try {
    for (const pattern of [`sg:v:{${namespace}*`, `sg:gen:${namespace}*`, `sg:registry:${namespace}*`, `{sg:ops:${namespace}}*`]) await deleteMatching(redis, pattern);
  } finally {
    redis.disconnect();
  }
}
