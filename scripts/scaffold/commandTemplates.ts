// The scaffolded subgraph's mutation (commands.ts) and resolvers (resolvers.ts), subscription included.
import { namesOf, owner, ownerOf, plural, type TemplateInput } from './templateInput';

export function commands(i: TemplateInput): string {
  const { n, x, imports, carrier } = i;
  const { a, E, view, state, itemId, event, idField } = namesOf(i);
  const P = n.pascal;
  const check = carrier
    ? `  // The ${x.words} must exist as ${ownerOf(carrier)} last published it (this subgraph's own copy,
  // ${n.name}.${x.knownView}), checked before anything is written: an event is forever.
  const [known] = await ctx.views.${x.knownView}.reader.getMany([input.${x.idField}]);
  if (!known) throw notFound('${x.words}', input.${x.idField});
`
    : `  // No declared topic carries ${x.type} (new-subgraph found none), so there is no copy of which
  // ${x.words}s exist to check against: any ${x.idField} is accepted. Add a view of the topic that
  // publishes them and refuse unknown ones here (docs/adding-a-subgraph.md).
`;
  return `// The ${n.name} team's mutation: check the caller and the input, emit one event, and answer
// from the view once it has applied that event (read-your-writes).
import { randomUUID } from 'node:crypto';
import { badInput, forbidden, notFound, unauthenticated } from '${imports.runtime}/errors';
import { checkId, eventFromInput, TOKEN_SUB } from '${imports.runtime}/inputChecks';
import { hasRole } from '${imports.platform}/identity';
import type { ${P}Context } from './context';
import { ${n.constant}_TOPIC } from './contract';
import { isItem, ${itemId}, type ${state} } from './projection';

export interface Record${E}Input {
  readonly id?: string | null;
  readonly ${x.idField}: string;
  readonly score: number;
  readonly title: string;
}

/**
 * Records a new ${n.entityWords} (any signed-in caller, as its author) or changes one (its author or
 * an admin). A ${x.words} that does not exist is refused with NOT_FOUND before anything is written.
 */
export async function ${a.record}(ctx: ${P}Context, input: Record${E}Input): Promise<${state}> {
  const { identity } = ctx;
  // Refused before anything is read, so a refused caller learns nothing about the records.
  if (identity.sub === null) throw unauthenticated('sign in to record a ${n.entityWords}');
  const view = ctx.views.${view};
  let current: ${state} | undefined;
  if (input.id != null) {
    const [found] = await view.reader.getMany([${itemId}(checkId(input.id, 'input.id'))]);
    // New ${plural(n)} get their id here: a client's id for a new one could name one ${n.entityWords}
    // in two ${x.words}s' partitions at once.
    if (!isItem(found)) throw notFound('${n.entityWords}', input.id);
    if (found.authorId !== identity.sub && !hasRole(identity, 'admin')) throw forbidden('only its author or an admin changes a ${n.entityWords}');
    if (found.${x.idField} !== input.${x.idField})
      throw badInput(\`${n.entityWords} \${input.id} is about ${x.words} \${found.${x.idField}}; it never moves to another\`, 'input.${x.idField}');
    current = found;
  }
  const id = current?.id ?? randomUUID();
  // The contract holds the limits: a violation on a field the client sent is BAD_USER_INPUT naming it.
  const event = eventFromInput(
    ${n.constant}_TOPIC,
    '${event}',
    { ${idField}: id, ${x.idField}: input.${x.idField}, authorId: current?.authorId ?? identity.sub, score: input.score, title: input.title.trim() },
    { ${x.idField}: 'input.${x.idField}', authorId: TOKEN_SUB, score: 'input.score', title: 'input.title' },
  );
${check}  await ctx.runtime.emit(${n.constant}_TOPIC, event, view);
  // Read past the request's loader cache: the answer is the view as it is after this write.
  const [after] = await view.reader.getMany([${itemId}(id)]);
  if (!isItem(after)) throw new Error(\`${n.entityWords} \${id} is missing after its write was applied\`);
  return after;
}
`;
}

export function resolvers(i: TemplateInput): string {
  const { n, x, imports, carrier } = i;
  const { a, E, X, view, state, summary, entity, itemId, summaryId, index, emptySummary, ref } = namesOf(i);
  const P = n.pascal;
  const known = carrier
    ? `        const [known] = await ctx.views.${x.knownView}.reader.getMany([id]);
        if (!known) throw notFound('${x.words}', id);
`
    : '';
  return `// The ${n.name} subgraph's resolvers: thin, reading through the request's loaders and handing
// the mutation to its command; everything they use comes in the context.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { badInput${carrier ? ', notFound' : ''} } from '${imports.runtime}/errors';
import { checkId } from '${imports.runtime}/inputChecks';
import { currentThenChanges } from '${imports.runtime}/noticeHub';
import { InvalidCursorError } from '${imports.runtime}/viewReader';
import { ${a.record}, type Record${E}Input } from './commands';
import type { ${P}Context } from './context';
import {
  ${emptySummary},
  isItem,
  isSummary,
  ${index},
  ${summaryId},
  ${itemId},
  type ${entity},
  type ${state},
  type ${summary},
} from './projection';

const MAX_PAGE = 100;

/** A ${x.words} as this subgraph gets it: the gateway's reference, or a subscription event carrying its aggregate. */
interface ${ref} {
  readonly ${x.keyField}: string;
  readonly summary?: ${summary};
}

const item = async (ctx: ${P}Context, id: string) => {
  const s = await ctx.loaders.${view}.load(${itemId}(id));
  return isItem(s) ? s : null;
};

const summaryOf = async (ctx: ${P}Context, ref: ${ref}) => {
  if (ref.summary) return ref.summary;
  const s = await ctx.loaders.${view}.load(${summaryId}(ref.${x.keyField}));
  return isSummary(s) ? s : ${emptySummary}(ref.${x.keyField});
};

export const resolvers: GraphQLResolverMap<${P}Context> = {
  Query: {
    // An id the contract could not hold (too long, a lone surrogate) is the caller's mistake, named.
    ${n.entityCamel}: (_: unknown, { id }: { id: string }, ctx: ${P}Context) => item(ctx, checkId(id, 'id')),
  },
  Mutation: {
    ${a.record}: (_: unknown, { input }: { input: Record${E}Input }, ctx: ${P}Context) => ${a.record}(ctx, input),
  },
  Subscription: {
    ${a.changed}: {
      // Fed by the view's change notices (one Redis subscription per process), never by polling.
      subscribe: async (_: unknown, args: { ${x.idField}: string }, ctx: ${P}Context) => {
        const id = checkId(args.${x.idField}, '${x.idField}');
${known}        const key = ${summaryId}(id);
        return currentThenChanges<${entity}>({
          hub: ctx.views.${view}.notices,
          filter: (c) => isSummary(c.state),
          ids: [key],
          current: async () => {
            const [now] = await ctx.views.${view}.reader.getMany([key]);
            return [[key, isSummary(now) ? now : ${emptySummary}(id)] as const];
          },
          versionOf: (s) => s.version,
        });
      },
      // graphql-ws builds one context per subscription, so its loaders would otherwise serve
      // the first event's ${plural(n)} to every later event.
      resolve: (s: ${entity}, _args: unknown, ctx: ${P}Context): ${ref} => {
        ctx.loaders.${view}.clearAll();
        if (!isSummary(s)) throw new Error('${a.changed} follows aggregates only');
        return { ${x.keyField}: s.${x.idField}, summary: s };
      },
    },
  },
  ${E}: {
    __resolveReference: (r: { id: string }, ctx: ${P}Context) => item(ctx, r.id),
    // ${owner(i).charAt(0).toUpperCase() + owner(i).slice(1)} own${i.owners.length > 1 ? '' : 's'} ${X}: this subgraph returns the reference and the gateway fetches the rest.
    ${x.camel}: (s: ${state}) => ({ __typename: '${X}', ${x.keyField}: s.${x.idField} }),
  },
  ${X}: {
    // The gateway only asks about ${x.words}s it got from their owner; nothing to look up here.
    __resolveReference: (r: ${ref}) => r,
    ${a.average}: async (r: ${ref}, _args: unknown, ctx: ${P}Context) => {
      const s = await summaryOf(ctx, r);
      return s.count > 0 ? s.scoreTotal / s.count : null;
    },
    ${a.count}: async (r: ${ref}, _args: unknown, ctx: ${P}Context) => (await summaryOf(ctx, r)).count,
    ${a.list}: async (r: ${ref}, args: { first: number; after?: string | null }, ctx: ${P}Context) => {
      if (!Number.isInteger(args.first) || args.first < 0 || args.first > MAX_PAGE)
        throw badInput(\`first must be 0 to \${MAX_PAGE}\`, 'first');
      // The index lives in the ${x.words}'s partition: one partition is read.
      const page = await ctx.views.${view}.reader
        .indexPage(${index}(r.${x.keyField}), { first: args.first, after: args.after, recordKey: r.${x.keyField} })
        .catch((e: unknown) => {
          throw e instanceof InvalidCursorError ? badInput(e.message, 'after') : e;
        });
      const nodes = await ctx.loaders.${view}.loadMany(page.ids);
      return {
        // Index and state are written in one step; a gap can only be a rebuild switching
        // generations between the two reads, and skipping it beats failing the page.
        edges: page.ids.flatMap((_, k) => {
          const node = nodes[k];
          return node && !(node instanceof Error) && isItem(node) ? [{ cursor: page.cursors[k], node }] : [];
        }),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      };
    },
  },
};
`;
}
