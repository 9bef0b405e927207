// `npm run subgraph -- publish|remove|list ...`: what a team (or its CI) does to the graph's
// membership. Publishing and removing are checked first (composition, and the operations the
// gateways served recently); running instances are not needed for either.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { ConfigError } from '../platform/configError';
import { operationWindowFromEnv } from '../platform/operationLog';
import { redisFromEnv } from '../platform/redisConfig';
import { readInstances, readSchemaRecords } from '../platform/registry';
import { publishSchema, refusalLines, removeSchema, type SchemaChangeOutcome } from '../platform/schemaPublishing';
import { namespaceFromEnv } from '../platform/settings';
import { hasSubgraphSdl, subgraphSdl } from '../schema/subgraphs';
import type { SubgraphDeclaration } from '../subgraphs/runtime/declaration';
import { declarationFolders } from './declarations';

const USAGE = `usage: npm run subgraph -- <command> [options]
  publish <name> [--sdl <file>] [--url <url>] [--force] [--dry-run]
      puts the subgraph's schema (from its code, or --sdl) into the graph, or replaces it.
      Refused when the graph would not compose, or when an operation the gateways served
      within REGISTRY_OPERATION_WINDOW_DAYS would break (--force publishes anyway).
      --dry-run checks and writes nothing (for CI).
  remove <name> [--force] [--dry-run]
      takes the subgraph's fields out of the graph, with the same checks. Its instances are
      no longer routed to, and do not publish it back when they restart.
  list
      the published schemas, removed subgraphs and running instances.
Settings: REDIS_URL (or REDIS_CLUSTER_NODES), STREAMGRAPH_NAMESPACE.`;

class UsageError extends Error {}

/** The subgraph's folder and declaration, found by name among the declared subgraphs. */
function findDeclaration(name: string): { dir: string; declaration: SubgraphDeclaration } | null {
  for (const dir of declarationFolders()) {
    const d = (require(path.join(dir, 'declaration.ts')) as { declaration?: SubgraphDeclaration }).declaration;
    if (d?.name === name) return { dir, declaration: d };
  }
  return null;
}

/** The SDL an instance of the subgraph would publish: its SDL file as buildSubgraphSchema prints it. */
function sdlOf(name: string, sdlFile: string | undefined, dir: string | undefined): string {
  let text: string;
  if (sdlFile) text = fs.readFileSync(sdlFile, 'utf8');
  else if (hasSubgraphSdl(name)) text = subgraphSdl(name);
  else if (dir && fs.existsSync(path.join(dir, 'schema.graphql'))) text = fs.readFileSync(path.join(dir, 'schema.graphql'), 'utf8');
  else throw new UsageError(`no SDL found for ${name}: pass --sdl <file>`);
  return printSubgraphSchema(buildSubgraphSchema([{ typeDefs: parse(text) }]));
}

function printOutcome(action: string, name: string, o: SchemaChangeOutcome): number {
  for (const w of o.warnings) console.warn(`warning: ${w}`);
  switch (o.status) {
    case 'published':
    case 'removed':
      for (const b of o.forcedPast) console.warn(`forced past: operation ${b.operation} will fail: ${b.error}`);
      console.log(`${name}: ${o.status}`);
      return 0;
    case 'unchanged':
      console.log(`${name}: unchanged (the graph already has this schema)`);
      return 0;
    case 'would-change':
      console.log(`${name}: the checks pass; ${action} would change the graph (dry run: nothing written)`);
      return 0;
    case 'refused':
      console.error(`${name}: ${action} refused (${o.reason}):`);
      for (const line of refusalLines(o)) console.error(`  ${line}`);
      if (o.reason === 'breaking') console.error('  update or retire those operations first, or pass --force to break them');
      return 1;
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      sdl: { type: 'string' },
      url: { type: 'string' },
      force: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, name] = positionals;
  if (!command || !['publish', 'remove', 'list'].includes(command)) throw new UsageError(command ? `unknown command ${command}` : 'a command is required');
  if (command !== 'list' && !name) throw new UsageError(`${command} needs the subgraph's name`);
  const namespace = namespaceFromEnv();
  const redis = redisFromEnv();
  try {
    const opts = { namespace, force: values.force, dryRun: values['dry-run'], by: 'cli', operationWindowMs: operationWindowFromEnv() };
    if (command === 'publish') {
      const found = findDeclaration(name!);
      if (!found && !values.sdl) throw new UsageError(`no declared subgraph is named ${name} (subgraphs/<name>/declaration.ts, or a folder in SUBGRAPH_DIRS); pass --sdl <file> and --url <url> for one outside this repository`);
      const live = (await readInstances(redis, namespace)).filter((i) => i.name === name);
      const url = values.url ?? live[0]?.url ?? (found ? `http://127.0.0.1:${found.declaration.port}/graphql` : undefined);
      if (!url) throw new UsageError('pass --url: no instance of it runs and it has no declaration to take a port from');
      const wsUrl = url.replace(/^http/, 'ws');
      return printOutcome('publish', name!, await publishSchema(redis, { name: name!, url, wsUrl, sdl: sdlOf(name!, values.sdl, found?.dir) }, opts));
    }
    if (command === 'remove') return printOutcome('remove', name!, await removeSchema(redis, name!, opts));
    const records = await readSchemaRecords(redis, namespace);
    const instances = await readInstances(redis, namespace);
    const now = Date.now();
    console.log('schemas:');
    for (const r of [...records.values()].sort((a, b) => a.name.localeCompare(b.name)))
      console.log(
        r.kind === 'published'
          ? `  ${r.name}  published ${new Date(r.publishedAt).toISOString()} by ${r.publishedBy}  ${r.url}`
          : `  ${r.name}  removed ${new Date(r.removedAt).toISOString()}`,
      );
    console.log('instances:');
    for (const i of instances) console.log(`  ${i.name}  ${i.instanceId}  ${i.url}  last heartbeat ${((now - i.lastSeen) / 1000).toFixed(1)} s ago`);
    return 0;
  } finally {
    redis.disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError || e instanceof ConfigError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(e as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
