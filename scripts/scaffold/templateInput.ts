// What every template of a scaffolded subgraph is given, and the names several of them share.
import type { Carrier } from './carrier';
import { addedNames, type AddedNames, type ExtendedNames, type SubgraphNames } from './names';

/** Import specifiers from the new subgraph's folder to the shared code it builds on. */
export interface ImportPaths {
  /** schema/events (topics, envelope, ContractViolation). */
  readonly events: string;
  /** schema/events/validate (the contract's check helpers). */
  readonly validate: string;
  /** subgraphs/runtime (no trailing slash). */
  readonly runtime: string;
  /** platform (no trailing slash). */
  readonly platform: string;
  /** test/support (only the integration test uses it). */
  readonly testSupport: string;
}

export interface TemplateInput {
  readonly n: SubgraphNames;
  /** The entity it extends (`Product`). */
  readonly x: ExtendedNames;
  /** The subgraphs that own the extended entity (named in comments and docs). */
  readonly owners: readonly string[];
  /** The topic that says which extended entities exist; null: no existence check. */
  readonly carrier: Carrier | null;
  readonly port: number;
  readonly imports: ImportPaths;
}

/** How the docs and messages say "the subgraph's records" (the name is usually a plural noun). */
export const plural = (n: SubgraphNames) => n.name.replace(/-/g, ' ');
export const owner = (i: TemplateInput) => (i.owners.length ? `the ${i.owners.join(' and ')} subgraph${i.owners.length > 1 ? 's' : ''}` : 'another subgraph');

/** How comments and test names call the team that owns a topic. */
export const ownerOf = (carrier: Carrier) => `the ${carrier.contract.owner} subgraph`;

/** Names used by several files, derived once. */
export function namesOf({ n, x }: TemplateInput) {
  const a: AddedNames = addedNames(n);
  return {
    a,
    E: n.entity,
    X: x.type,
    /** The view of the subgraph's own entities and the aggregates, by its declaration key. */
    view: n.camel,
    projection: `${n.camel}Projection`,
    state: `${n.entity}State`,
    summary: `${x.type}${n.pascal}State`,
    entity: `${n.pascal}Entity`,
    itemId: `${n.entityCamel}EntityId`,
    summaryId: `${x.camel}SummaryId`,
    index: `${x.camel}${n.pascal}Index`,
    emptySummary: `empty${x.type}Summary`,
    known: `${x.knownView}Projection`,
    knownState: `Known${x.type}`,
    event: `${n.entity}Recorded`,
    idField: `${n.entityCamel}Id`,
    ref: `${x.type}Ref`,
  };
}
