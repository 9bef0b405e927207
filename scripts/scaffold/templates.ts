// The files of a scaffolded subgraph, as text: one template function per file, each in the
// module named for what it writes. Imports of the repo's shared code come in through
// ImportPaths, computed from wherever the subgraph is written. The subgraph owns an entity of
// its own (a rating) about an entity of another team's (a product), on a topic keyed by that
// entity's key, and adds nullable fields to it.
import { commands, resolvers } from './commandTemplates';
import { sdl } from './sdlTemplate';
import type { TemplateInput } from './templateInput';
import { integrationTest, projectionTest } from './testTemplates';
import { projection } from './viewTemplates';
import { context, contract, declaration, index, main, schema } from './wiringTemplates';

export type { ImportPaths, TemplateInput } from './templateInput';

/** Every file of the subgraph, by file name within its folder. */
export function subgraphFiles(input: TemplateInput): Record<string, string> {
  return {
    'schema.graphql': sdl(input),
    'contract.ts': contract(input),
    'declaration.ts': declaration(input),
    'projection.ts': projection(input),
    'projection.test.ts': projectionTest(input),
    'context.ts': context(input),
    'commands.ts': commands(input),
    'resolvers.ts': resolvers(input),
    'schema.ts': schema(input),
    'index.ts': index(input),
    'main.ts': main(input),
    [`${input.n.name}.test.ts`]: integrationTest(input),
  };
}
