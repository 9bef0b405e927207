// Errors never vanish: a field the client asked that no fetch of the plan provided (an empty
// plan, an entity no fetch reached) is an error at its path, never a silent null; a subgraph's
// own null, for a field or for a whole entity, stays a plain null.
import { buildSchema, parse } from 'graphql';
import { executePlan, type SubgraphAnswer, type SubgraphRequest } from './executePlan';
import type { PlanNode } from './hivePlanner';
import { shapeResponse } from './shapeResponse';
import { interfacesAsObjects, interfacesWithoutObjects } from './supergraphInfo';
import { schemaFromConsumerSdl } from '../../platform/schemaChecks';

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

// Audit suite non-resolvable-interface-object: a value of an interface no object type implements
// (an @interfaceObject's) is answered as the interface itself; introspection still says interface.
describe('shapeResponse: a value of an interface no object type implements', () => {
  const apiSdl = /* GraphQL */ `
    type Query { asset: Asset! entities: [Entity!]! post: Post }
    interface Entity { id: ID! }
    interface Asset implements Entity { id: ID! tag: String }
    type Post implements Entity { id: ID! title: String }
  `;
  const unimplemented = interfacesWithoutObjects(schemaFromConsumerSdl(apiSdl));
  const executionSchema = schemaFromConsumerSdl(interfacesAsObjects(apiSdl, unimplemented));
  const introspectionSchema = schemaFromConsumerSdl(apiSdl);
  const shape = (query: string, data: Record<string, unknown>) =>
    shapeResponse({ schema: executionSchema, introspectionSchema, document: parse(query), data, fetchErrors: [] });

  it('finds only the interfaces without an object type', () => {
    expect([...unimplemented]).toEqual(['Asset']);
    expect(interfacesWithoutObjects(schema).size).toBe(0);
  });

  it('completes it against the interface’s fields without a __typename, fragments on it and on its interfaces applying, others not', () => {
    expect(shape('{ asset { __typename id tag ... on Asset { t: tag } ... on Entity { i: id } ... on Post { title } } }', { asset: { id: 'a1', tag: 'x', t: 'x', i: 'a1' } })).toEqual({
      data: { asset: { __typename: 'Asset', id: 'a1', tag: 'x', t: 'x', i: 'a1' } },
    });
  });

  it('resolves a __typename naming it where an abstract type with objects is expected, beside those objects', () => {
    const res = shape('{ entities { __typename id ... on Asset { tag } ... on Post { title } } }', {
      entities: [
        { __typename: 'Asset', id: 'a1', tag: 'x' },
        { __typename: 'Post', id: 'p1', title: 'Hello' },
      ],
    });
    expect(res).toEqual({ data: { entities: [{ __typename: 'Asset', id: 'a1', tag: 'x' }, { __typename: 'Post', id: 'p1', title: 'Hello' }] } });
  });

  it('still reports a field no fetch provided inside it, and propagates the null', () => {
    const res = shape('{ asset { id tag } }', { asset: { tag: 'x' } });
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([expect.objectContaining({ path: ['asset', 'id'], extensions: { code: 'UNRESOLVED_FIELD' } })]);
  });

  it('answers introspection from the API schema, in the operation’s field order, root fragments included', () => {
    const query = /* GraphQL */ `
      query Q($name: String!) {
        a: __type(name: "Asset") { kind possibleTypes { name } }
        asset { id }
        ...Root
        e: __type(name: $name) { possibleTypes { name } }
      }
      fragment Root on Query { __schema { types { name kind } } }
    `;
    const res = shapeResponse({ schema: executionSchema, introspectionSchema, document: parse(query), operationName: 'Q', variables: { name: 'Entity' }, data: { asset: { id: 'a1' } }, fetchErrors: [] });
    expect(res.errors).toBeUndefined();
    expect(Object.keys(res.data!)).toEqual(['a', 'asset', '__schema', 'e']);
    expect(res.data!.a).toEqual({ kind: 'INTERFACE', possibleTypes: [] });
    expect(res.data!.asset).toEqual({ id: 'a1' });
    expect((res.data!.__schema as { types: { name: string; kind: string }[] }).types).toContainEqual({ name: 'Asset', kind: 'INTERFACE' });
    expect(res.data!.e).toEqual({ possibleTypes: [{ name: 'Post' }] });
  });
});
