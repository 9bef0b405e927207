// A subgraph's data product declarations as it announces them in the registry: each product's
// topics with their contract (version, status and JSON Schema from schema/contracts), its views
// with the topic each folds, its consumer group and the fields it backs. Topics and views come
// from the subgraph's declaration, so a topic or view added there joins a product by itself
// (the first product takes what no product lists). Pure but for reading the published versions.
import type { AnnouncedDataProduct, AnnouncedTopic } from '../../platform/registry';
import { contractState } from '../../schema/contracts/published';
import type { TopicContract } from '../../schema/events';
import type { SubgraphDeclaration } from './declaration';

function announcedTopic(contract: TopicContract, publishedDir?: string): AnnouncedTopic {
  const state = contractState(contract, publishedDir);
  return {
    name: contract.name,
    owner: contract.owner,
    keyedBy: contract.keyedBy,
    partitions: contract.partitions,
    source: contract.fromRecord ? 'cdc' : 'events',
    events: Object.entries(contract.events).map(([type, spec]) => ({ type, version: spec.version })),
    contract: { version: state.version, status: state.status, jsonSchema: state.schema },
  };
}

/** The products `declaration` declares, resolved against its topics and views; problems throw, naming the file to fix. */
export function dataProductAnnouncement(declaration: SubgraphDeclaration, opts: { publishedDir?: string } = {}): AnnouncedDataProduct[] {
  const declared = declaration.dataProducts ?? [];
  if (declared.length === 0) return [];
  const where = `subgraphs/${declaration.name}/dataProducts.ts`;
  const topics = new Map(declaration.topics.map((t) => [t.name, t]));
  const listedTopics = new Set(declared.flatMap((p) => p.topics ?? []));
  const listedViews = new Set(declared.flatMap((p) => Object.keys(p.views ?? {})));
  for (const t of listedTopics) if (!topics.has(t)) throw new Error(`${where}: topic ${t} is not one ${declaration.name} declares (${[...topics.keys()].join(', ')})`);
  for (const v of listedViews) if (!(v in declaration.views)) throw new Error(`${where}: view ${v} is not one ${declaration.name} declares (${Object.keys(declaration.views).join(', ')})`);
  return declared.map((p, i) => {
    const first = i === 0;
    const topicNames = [...(p.topics ?? (first ? [...topics.keys()] : [])), ...(first && p.topics ? [...topics.keys()].filter((t) => !listedTopics.has(t)) : [])];
    const viewKeys = [...Object.keys(p.views ?? {}), ...(first ? Object.keys(declaration.views).filter((v) => !listedViews.has(v)) : [])];
    return {
      name: p.name,
      subgraph: declaration.name,
      team: p.team,
      contact: p.contact,
      description: p.description,
      topics: [...new Set(topicNames)].map((t) => announcedTopic(topics.get(t)!, opts.publishedDir)),
      views: viewKeys.map((key) => {
        const projection = declaration.views[key];
        return { name: projection.name, topic: projection.topic.name, topicOwner: projection.topic.owner, groupId: `${declaration.name}.${projection.name}`, fields: [...(p.views?.[key] ?? [])] };
      }),
      serviceLevels: p.serviceLevels,
    };
  });
}
