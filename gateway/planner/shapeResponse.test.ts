// Errors never vanish: a field the client asked that no fetch of the plan provided (an empty
// plan, an entity no fetch reached) is an error at its path, never a silent null; a subgraph's
// own null, for a field or for a whole entity, stays a plain null.
import { buildSchema, parse } from 'graphql';
import { executePlan, type SubgraphAnswer, type SubgraphRequest } from './executePlan';
import type { PlanNode } from './hivePlanner';
import { shapeResponse } from './shapeResponse';

const schema = buildSchema(/* GraphQL */ `
  type Query { post: Post account: Account }
  type Post { id: ID! title: String summary: String words: Int! }
  type Account { id: ID! handle: String }
`);

const postRequires = [{ kind: 'InlineFragment' as const, typeCondition: 'Post', selections: [{ kind: 'Field' as const, name: '__typename' }, { kind: 'Field' as const, name: 'id' }] }];
const entityFetch = (path: string, serviceName = 'stats'): PlanNode => ({
  kind: 'Flatten',
  path: [{ Field: path }],
  node: { kind: 'Fetch', serviceName, operation: 'query($representations:[_Any!]!){_entities(representations:$representations){...on Post{summary words}}}', requires: postRequires },
});

async function answer(query: string, node: PlanNode | undefined, subgraphs: Record<string, (req: SubgraphRequest) => SubgraphAnswer>) {
  const executed = await executePlan(node, {
    variables: {},
    matches: (cond, typename) => cond === typename,
    send: async (service, req) => subgraphs[service](req),
  });
  return shapeResponse({ schema, document: parse(query), data: executed.data, fetchErrors: executed.errors });
}

describe('shapeResponse: a field no fetch provided', () => {
  it('is an error at its path when the plan is empty for a field the client asked', async () => {
    const res = await answer('{ account { handle } }', undefined, {});
    expect(res.data).toEqual({ account: null });
    expect(res.errors).toEqual([
      { message: 'Query.account could not be resolved: no fetch of the query plan provided it', path: ['account'], extensions: { code: 'UNRESOLVED_FIELD' } },
    ]);
  });

  it('is an error beside the fields other fetches answered', async () => {
    const res = await answer('{ post { id } account { handle } }', { kind: 'Fetch', serviceName: 'posts', operation: '{post{id}}' }, {
      posts: () => ({ data: { post: { id: 'p1' } } }),
    });
    expect(res.data).toEqual({ post: { id: 'p1' }, account: null });
    expect(res.errors).toEqual([expect.objectContaining({ path: ['account'], extensions: { code: 'UNRESOLVED_FIELD' } })]);
  });

  it('is an error at the entity field when its entity could not be represented (no __typename to send)', async () => {
    const res = await answer('{ post { id summary } }', { kind: 'Sequence', nodes: [{ kind: 'Fetch', serviceName: 'posts', operation: '{post{id}}' }, entityFetch('post')] }, {
      posts: () => ({ data: { post: { id: 'p1' } } }),
      stats: () => {
        throw new Error('no representation, so no _entities call');
      },
    });
    expect(res.data).toEqual({ post: { id: 'p1', summary: null } });
    expect(res.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/^Post\.summary could not be resolved/), path: ['post', 'summary'] })]);
  });

  it('puts its own error where it propagates a null from a non-null field', async () => {
    const res = await answer('{ post { id words } }', { kind: 'Fetch', serviceName: 'posts', operation: '{post{id}}' }, { posts: () => ({ data: { post: { id: 'p1' } } }) });
    expect(res.data).toEqual({ post: null });
    expect(res.errors).toEqual([expect.objectContaining({ path: ['post', 'words'], extensions: { code: 'UNRESOLVED_FIELD' } })]);
  });

  it('is a subgraph answer with fewer entities than it was sent', async () => {
    const res = await answer('{ post { id summary } }', { kind: 'Sequence', nodes: [{ kind: 'Fetch', serviceName: 'posts', operation: '{post{__typename id}}' }, entityFetch('post')] }, {
      posts: () => ({ data: { post: { __typename: 'Post', id: 'p1' } } }),
      stats: () => ({ data: { _entities: [] } }),
    });
    expect(res.errors).toEqual([expect.objectContaining({ path: ['post', 'summary'], extensions: { code: 'UNRESOLVED_FIELD' } })]);
  });
});

describe('shapeResponse: a null a subgraph answered', () => {
  const post = () => ({ data: { post: { __typename: 'Post', id: 'p1' } } });
  const plan: PlanNode = { kind: 'Sequence', nodes: [{ kind: 'Fetch', serviceName: 'posts', operation: '{post{__typename id}}' }, entityFetch('post')] };

  it('stays a plain null for a nullable field, at the root or in an entity', async () => {
    expect(await answer('{ account { handle } }', { kind: 'Fetch', serviceName: 'accounts', operation: '{account{handle}}' }, { accounts: () => ({ data: { account: null } }) })).toEqual({
      data: { account: null },
    });
    expect(await answer('{ post { id summary } }', plan, { posts: post, stats: () => ({ data: { _entities: [{ summary: null, words: 3 }] } }) })).toEqual({
      data: { post: { id: 'p1', summary: null } },
    });
  });

  it('stays a plain null for the fields of an entity the subgraph answered null for (it knows no such entity)', async () => {
    expect(await answer('{ post { id summary } }', plan, { posts: post, stats: () => ({ data: { _entities: [null] } }) })).toEqual({ data: { post: { id: 'p1', summary: null } } });
  });

  it('is only a non-null violation where the schema promises a value', async () => {
    const res = await answer('{ post { id words } }', plan, { posts: post, stats: () => ({ data: { _entities: [null] } }) });
    expect(res.data).toEqual({ post: null });
    expect(res.errors).toEqual([expect.objectContaining({ path: ['post', 'words'], extensions: { code: 'NON_NULL_VIOLATION' } })]);
  });

  it('is explained by the subgraph’s own error, which is the only one the client gets', async () => {
    const res = await answer('{ post { id summary } }', plan, {
      posts: post,
      stats: () => ({ data: { _entities: [null] }, errors: [{ message: 'stats are down', path: ['_entities', 0] }] }),
    });
    expect(res.data).toEqual({ post: { id: 'p1', summary: null } });
    expect(res.errors).toEqual([{ message: 'stats are down', path: ['post'], extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'stats' } }]);
  });
});
