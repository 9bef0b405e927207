// `npm run contracts:check [-- --publish]`: every declared topic contract against the last
// version published in schema/contracts/published/. A change older events would be refused by
// (a removed or renamed field, a narrowed type, a new required field) fails, naming each
// problem: views replay history, so a contract may only widen. Runs in `npm run lint`, so in CI.
// --publish records the next version of each contract that changed compatibly (or is new).
import { parseArgs } from 'node:util';
import type { TopicContract } from '../schema/events';
import { contractState, PUBLISHED_DIR, writePublished, type ContractState } from '../schema/contracts/published';
import { declaredTopics, subgraphDeclarations } from './declarations';

export interface CheckOutcome {
  readonly ok: boolean;
  readonly lines: readonly string[];
  readonly states: readonly ContractState[];
}

/** Checks `contracts` against the published versions in `dir`; with `publish`, writes the next ones. */
export function checkContracts(contracts: readonly TopicContract[], opts: { dir?: string; publish?: boolean } = {}): CheckOutcome {
  const dir = opts.dir ?? PUBLISHED_DIR;
  const lines: string[] = [];
  const states = contracts.map((c) => contractState(c, dir));
  for (const s of states) {
    switch (s.status) {
      case 'PUBLISHED':
        lines.push(`${s.topic}: v${s.version} (published)`);
        break;
      case 'INCOMPATIBLE':
        lines.push(`${s.topic}: NOT backward compatible with v${s.version - 1}:`, ...s.problems.map((p) => `  - ${p}`));
        break;
      case 'NEW':
      case 'UNPUBLISHED_CHANGE': {
        const what = s.status === 'NEW' ? 'new contract' : `compatible change since v${s.version - 1}`;
        if (opts.publish) {
          writePublished({ topic: s.topic, version: s.version, schema: s.schema }, dir);
          lines.push(`${s.topic}: ${what}, published as v${s.version}`);
        } else lines.push(`${s.topic}: ${what}, not published yet (npm run contracts:check -- --publish makes it v${s.version})`);
        break;
      }
    }
  }
  return { ok: states.every((s) => s.status !== 'INCOMPATIBLE'), lines, states };
}

if (require.main === module) {
  const { values } = parseArgs({ options: { publish: { type: 'boolean' } } });
  const outcome = checkContracts(declaredTopics(subgraphDeclarations()), { publish: values.publish });
  for (const line of outcome.lines) (outcome.ok ? console.log : console.error)(line);
  if (!outcome.ok) {
    console.error('contracts:check failed: make the change backward compatible (add fields as optional, widen, never remove), or add a new topic');
    process.exit(1);
  }
}
