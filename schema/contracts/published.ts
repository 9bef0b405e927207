// The published versions of every topic contract, kept in the repository
// (schema/contracts/published/<topic>/v<N>.json): `npm run contracts:check` compares the
// contracts in code with the last of them, and `-- --publish` adds the next. A subgraph
// announces each topic's version (and whether code has moved past it) with its data products.
import fs from 'node:fs';
import path from 'node:path';
import type { TopicContract } from '../events/contract';
import type { JsonSchema } from '../events/jsonSchema';
import { topicBackwardProblems } from './compatibility';
import { topicJsonSchema } from './topicSchema';

export const PUBLISHED_DIR = path.join(__dirname, 'published');

export interface PublishedContract {
  readonly topic: string;
  readonly version: number;
  readonly schema: JsonSchema;
}

/** A topic name as a folder name (topic names are [A-Za-z0-9._-], so only a guard). */
const folderOf = (topic: string, dir: string) => path.join(dir, topic.replace(/[^A-Za-z0-9._-]/g, '_'));

/** The last published version of `topic`, or null when it was never published. */
export function lastPublished(topic: string, dir = PUBLISHED_DIR): PublishedContract | null {
  const folder = folderOf(topic, dir);
  if (!fs.existsSync(folder)) return null;
  const versions = fs
    .readdirSync(folder)
    .map((f) => /^v(\d+)\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  if (versions.length === 0) return null;
  return JSON.parse(fs.readFileSync(path.join(folder, `v${versions[0]}.json`), 'utf8')) as PublishedContract;
}

/** Writes the next version of `topic`'s contract; returns its path. */
export function writePublished(contract: PublishedContract, dir = PUBLISHED_DIR): string {
  const folder = folderOf(contract.topic, dir);
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `v${contract.version}.json`);
  fs.writeFileSync(file, `${JSON.stringify(contract, null, 2)}\n`);
  return file;
}

/** Where a contract in code stands against its published versions. */
export type ContractStatus =
  /** Same as the last published version. */
  | 'PUBLISHED'
  /** A backward-compatible change not published yet: it becomes `version` when published. */
  | 'UNPUBLISHED_CHANGE'
  /** A change older events would be refused by. */
  | 'INCOMPATIBLE'
  /** Never published: it becomes version 1. */
  | 'NEW';

export interface ContractState {
  readonly topic: string;
  /** The published version it matches, or the one it becomes when published. */
  readonly version: number;
  readonly status: ContractStatus;
  readonly schema: JsonSchema;
  readonly problems: readonly string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Compares `contract` as code declares it with its last published version. */
export function contractState(contract: TopicContract, dir = PUBLISHED_DIR): ContractState {
  const schema = topicJsonSchema(contract);
  const last = lastPublished(contract.name, dir);
  if (!last) return { topic: contract.name, version: 1, status: 'NEW', schema, problems: [] };
  if (same(last.schema, schema)) return { topic: contract.name, version: last.version, status: 'PUBLISHED', schema, problems: [] };
  const problems = topicBackwardProblems(last.schema, schema);
  return { topic: contract.name, version: last.version + 1, status: problems.length ? 'INCOMPATIBLE' : 'UNPUBLISHED_CHANGE', schema, problems };
}
