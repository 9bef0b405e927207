// The subgraphs as the operations CLIs know them: every `declaration.ts` found in a folder of
// subgraphs/ (a scaffolded subgraph included), and in the folders SUBGRAPH_DIRS names (a
// subgraph scaffolded with --dir elsewhere). Topics and views come from these and nowhere else.
import fs from 'node:fs';
import path from 'node:path';
import { topicSpecsWithDeadLetters, type TopicContract, type TopicSpec } from '../schema/events';
import { hasSubgraphSdl } from '../schema/subgraphs';
import { ConfigError } from '../platform/configError';
import type { SubgraphDeclaration } from '../subgraphs/runtime/declaration';
import type { AnyProjection } from '../subgraphs/runtime/projection';

export const SUBGRAPHS_DIR = path.resolve(__dirname, '../subgraphs');
const FILE = 'declaration.ts';

/** A view with the subgraph that builds it (its consumer group is `<subgraph>.<view>`). */
export interface ViewEntry {
  readonly subgraph: string;
  readonly projection: AnyProjection;
}

/** The folders that hold a declaration: subgraphs/<name>, then those SUBGRAPH_DIRS lists (comma-separated). */
export function declarationFolders(env: NodeJS.ProcessEnv = process.env): string[] {
  const own = fs
    .readdirSync(SUBGRAPHS_DIR, { withFileTypes: true })
    // subgraphs/runtime is what every subgraph shares, not a subgraph (its declaration.ts is the type).
    .filter((e) => e.isDirectory() && e.name !== 'runtime' && fs.existsSync(path.join(SUBGRAPHS_DIR, e.name, FILE)))
    .map((e) => path.join(SUBGRAPHS_DIR, e.name));
  const extra = (env.SUBGRAPH_DIRS ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean)
    .map((d) => path.resolve(d));
  for (const dir of extra)
    if (!fs.existsSync(path.join(dir, FILE))) throw new ConfigError(`SUBGRAPH_DIRS names ${dir}, which has no ${FILE}`);
  return [...new Set([...own, ...extra])];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** What is wrong with a loaded `declaration`, or null when it has the shape of one. */
function problemOf(d: unknown): string | null {
  if (!isObject(d)) return 'exports no `declaration`';
  if (typeof d.name !== 'string' || typeof d.port !== 'number' || typeof d.portVariable !== 'string') return 'needs a name, port and portVariable';
  if (!Array.isArray(d.topics) || !d.topics.every((t) => isObject(t) && typeof t.name === 'string' && isObject(t.events)))
    return 'needs topics, each a topic contract';
  if (!isObject(d.views) || !Object.values(d.views).every((v) => isObject(v) && typeof v.name === 'string' && isObject(v.topic)))
    return 'needs views, each a projection';
  return null;
}

const isDeclaration = (d: unknown): d is SubgraphDeclaration => problemOf(d) === null;

/** Loads one folder's declaration, checking its shape so a broken file is named, not a stack trace. */
function load(dir: string): SubgraphDeclaration {
  const file = path.join(dir, FILE);
  // Loaded by path at run time (the CLIs run under tsx), so a new subgraph needs no edit here.
  const d: unknown = (require(file) as { declaration?: unknown }).declaration;
  if (!isDeclaration(d)) throw new ConfigError(`${path.relative(process.cwd(), file)} ${problemOf(d)} (see subgraphs/runtime/declaration.ts)`);
  return d;
}

/** Every declared subgraph; two with one name, or two topic contracts with one name, are refused. */
export function subgraphDeclarations(env: NodeJS.ProcessEnv = process.env): SubgraphDeclaration[] {
  // By port: the product's own first (customers, catalog, orders), in a stable order.
  const declarations = declarationFolders(env)
    .map(load)
    .sort((a, b) => a.port - b.port || a.name.localeCompare(b.name));
  const names = new Set<string>();
  for (const d of declarations) {
    if (names.has(d.name)) throw new ConfigError(`two subgraphs are declared as ${d.name}`);
    names.add(d.name);
  }
  declaredTopics(declarations);
  return declarations;
}

/** The product's own subgraphs: those whose SDL is in schema/ (composed, started by `npm start`). */
export function productSubgraphs(declarations: readonly SubgraphDeclaration[] = subgraphDeclarations()): SubgraphDeclaration[] {
  return declarations.filter((d) => hasSubgraphSdl(d.name));
}

/** The declaration of a subgraph by name. */
export function declarationOf(name: string, declarations = subgraphDeclarations()): SubgraphDeclaration {
  const found = declarations.find((d) => d.name === name);
  if (!found) throw new ConfigError(`no subgraph declares the name ${name}`);
  return found;
}

/** Every topic a subgraph owns or a view reads, once each (a topic read but owned by no declaration too). */
export function declaredTopics(declarations: readonly SubgraphDeclaration[]): TopicContract[] {
  const byName = new Map<string, TopicContract>();
  // Owned topics first, in declaration order; then any a view reads that no one declares owning.
  const all = [...declarations.flatMap((d) => d.topics), ...declarations.flatMap((d) => Object.values(d.views).map((v) => v.topic))];
  for (const topic of all) {
    const seen = byName.get(topic.name);
    if (seen && seen !== topic) throw new ConfigError(`two different contracts declare the topic ${topic.name} (owners ${seen.owner} and ${topic.owner})`);
    byName.set(topic.name, topic);
  }
  return [...byName.values()];
}

/** What `npm run topics` creates: every declared topic and its dead-letter topic. */
export function declaredTopicSpecs(declarations = subgraphDeclarations()): TopicSpec[] {
  return topicSpecsWithDeadLetters(declaredTopics(declarations));
}

/** The declared topics as one copy of the system names them: under STREAMGRAPH_NAMESPACE's prefix. */
export function namespacedTopicSpecs(namespace: string, declarations = subgraphDeclarations()): TopicSpec[] {
  return declaredTopicSpecs(declarations).map((s) => ({ ...s, name: `${namespace}${s.name}` }));
}

/** Every declared view, with its subgraph. */
export function declaredViews(declarations = subgraphDeclarations()): ViewEntry[] {
  return declarations.flatMap((d) => Object.values(d.views).map((projection) => ({ subgraph: d.name, projection })));
}

export function findView(name: string, views = declaredViews()): ViewEntry | undefined {
  return views.find((v) => v.projection.name === name);
}

/** A view's names as the subgraph runtime gives them in `namespace`: view, topic and consumer group. */
export function viewNames(v: ViewEntry, namespace: string): { view: string; topic: string; groupId: string } {
  return {
    view: `${namespace}${v.projection.name}`,
    topic: `${namespace}${v.projection.topic.name}`,
    groupId: `${namespace}${v.subgraph}.${v.projection.name}`,
  };
}
