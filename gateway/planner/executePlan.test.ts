// The executor on hand-written plans of the Rust planner's shape, with subgraphs as functions.
import { executePlan, type SubgraphAnswer, type SubgraphRequest } from './executePlan';
import type { PlanNode } from './hivePlanner';

type Handler = (req: SubgraphRequest) => SubgraphAnswer | Promise<SubgraphAnswer>;

function run(node: PlanNode, handlers: Record<string, Handler>, variables: Record<string, unknown> = {}) {
  const sent: Array<{ service: string; req: SubgraphRequest }> = [];
  const result = executePlan(node, {
    variables,
    matches: (cond, typename) => cond === typename || (cond === 'Account' && typename === 'User'),
    send: async (service, req) => {
      sent.push({ service, req });
      const h = handlers[service];
      if (!h) throw new Error(`no ${service}`);
      return h(req);
    },
  });
  return { result, sent };
}

const productRequires = [{ kind: 'InlineFragment' as const, typeCondition: 'Product', selections: [{ kind: 'Field' as const, name: '__typename' }, { kind: 'Field' as const, name: 'id' }] }];

describe('executePlan', () => {
  it('sends each distinct representation once and merges the answer into every entity it stands for', async () => {
    const { result, sent } = run(
      {
        kind: 'Sequence',
        nodes: [
          { kind: 'Fetch', serviceName: 'orders', operation: '{orders{items{product{__typename id}}}}' },
          {
            kind: 'Flatten',
            path: [{ Field: 'orders' }, '@', { Field: 'items' }, '@', { Field: 'product' }],
            node: { kind: 'Fetch', serviceName: 'catalog', operation: 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}', requires: productRequires },
          },
        ],
      },
      {
        orders: () => ({ data: { orders: [{ items: [{ product: { __typename: 'Product', id: 'p1' } }, { product: { __typename: 'Product', id: 'p2' } }] }, { items: [{ product: { __typename: 'Product', id: 'p1' } }] }] } }),
        catalog: (req) => ({ data: { _entities: (req.variables.representations as Array<{ id: string }>).map((r) => ({ name: `name of ${r.id}` })) } }),
      },
    );
    const { data, errors } = await result;
    expect(errors).toEqual([]);
    expect(sent[1].req.variables.representations).toEqual([{ __typename: 'Product', id: 'p1' }, { __typename: 'Product', id: 'p2' }]);
    expect(data.orders).toEqual([
      { items: [{ product: { __typename: 'Product', id: 'p1', name: 'name of p1' } }, { product: { __typename: 'Product', id: 'p2', name: 'name of p2' } }] },
      { items: [{ product: { __typename: 'Product', id: 'p1', name: 'name of p1' } }] },
    ]);
  });

  it('places an entity error at the client path of every entity the representation stands for', async () => {
    const { result } = run(
      {
        kind: 'Sequence',
        nodes: [
          { kind: 'Fetch', serviceName: 'orders', operation: '{a{__typename id} b{__typename id}}' },
          {
            kind: 'Parallel',
            nodes: [
              { kind: 'Flatten', path: [{ Field: 'a' }], node: { kind: 'Fetch', serviceName: 'catalog', operation: 'q', requires: productRequires } },
            ],
          },
        ],
      },
      {
        orders: () => ({ data: { a: { __typename: 'Product', id: 'p1' }, b: { __typename: 'Product', id: 'p1' } } }),
        catalog: () => ({ data: { _entities: [null] }, errors: [{ message: 'no such product', path: ['_entities', 0, 'name'] }] }),
      },
    );
    const { errors } = await result;
    expect(errors).toEqual([{ message: 'no such product', path: ['a', 'name'], extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'catalog' } }]);
  });

  it('reads a required field under the key it was fetched by and writes it under the key the subgraph expects', async () => {
    const { result, sent } = run(
      {
        kind: 'Sequence',
        nodes: [
          { kind: 'Fetch', serviceName: 'posts', operation: '{post{__typename id comments{body} _internal_qp_alias_0: comments{body}}}' },
          {
            kind: 'Flatten',
            path: [{ Field: 'post' }],
            node: {
              kind: 'Fetch',
              serviceName: 'stats',
              operation: 'q',
              requires: [
                {
                  kind: 'InlineFragment',
                  typeCondition: 'Post',
                  selections: [
                    { kind: 'Field', name: '__typename' },
                    { kind: 'Field', name: '_internal_qp_alias_0', alias: 'comments', selections: [{ kind: 'Field', name: 'body' }] },
                    { kind: 'Field', name: 'id' },
                  ],
                },
              ],
            },
          },
        ],
      },
      {
        posts: () => ({ data: { post: { __typename: 'Post', id: 'x', comments: [{ body: 'a' }], _internal_qp_alias_0: [{ body: 'a' }, { body: 'b' }, { body: 'c' }] } } }),
        stats: () => ({ data: { _entities: [{ summary: 3 }] } }),
      },
    );
    await result;
    expect(sent[1].req.variables.representations).toEqual([{ __typename: 'Post', comments: [{ body: 'a' }, { body: 'b' }, { body: 'c' }], id: 'x' }]);
  });

  it('applies input rewrites (an @interfaceObject is sent as its interface) and output rewrites (renamed keys)', async () => {
    const { result, sent } = run(
      {
        kind: 'Sequence',
        nodes: [
          { kind: 'Fetch', serviceName: 'accounts', operation: '{me{__typename id}}' },
          {
            kind: 'Flatten',
            path: [{ Field: 'me' }],
            node: {
              kind: 'Fetch',
              serviceName: 'scores',
              operation: 'q',
              requires: [{ kind: 'InlineFragment', typeCondition: 'Account', selections: [{ kind: 'Field', name: '__typename' }, { kind: 'Field', name: 'id' }] }],
              inputRewrites: [{ ValueSetter: { path: [{ TypenameEquals: ['Account'] }, { Key: '__typename' }], setValueTo: 'Account' } }],
              outputRewrites: [{ KeyRenamer: { path: [{ Key: 'score__alias' }], renameKeyTo: 'score' } }],
            },
          },
        ],
      },
      {
        accounts: () => ({ data: { me: { __typename: 'User', id: 'u1' } } }),
        scores: () => ({ data: { _entities: [{ score__alias: 7 }] } }),
      },
    );
    const { data } = await result;
    expect(sent[1].req.variables.representations).toEqual([{ __typename: 'Account', id: 'u1' }]);
    expect(data.me).toEqual({ __typename: 'User', id: 'u1', score: 7 });
  });

  it('takes the branch of a condition the variables choose, and only those variables the fetch uses', async () => {
    const plan: PlanNode = {
      kind: 'Condition',
      condition: 'withName',
      ifClause: { kind: 'Fetch', serviceName: 'a', operation: 'q1', variableUsages: ['id'] },
      elseClause: { kind: 'Fetch', serviceName: 'b', operation: 'q2' },
    };
    const yes = run(plan, { a: () => ({ data: { x: 1 } }), b: () => ({ data: { x: 2 } }) }, { withName: true, id: 'i', other: 'o' });
    expect((await yes.result).data).toEqual({ x: 1 });
    expect(yes.sent[0].req.variables).toEqual({ id: 'i' });
    const no = run(plan, { a: () => ({ data: { x: 1 } }), b: () => ({ data: { x: 2 } }) }, { withName: false });
    expect((await no.result).data).toEqual({ x: 2 });
  });

  it('turns a fetch that throws into an error naming the subgraph and goes on with the rest', async () => {
    const { result } = run(
      { kind: 'Parallel', nodes: [{ kind: 'Fetch', serviceName: 'down', operation: 'q' }, { kind: 'Fetch', serviceName: 'up', operation: 'q' }] },
      { up: () => ({ data: { fine: true } }) },
    );
    const { data, errors } = await result;
    expect(data).toEqual({ fine: true });
    expect(errors).toEqual([{ message: 'no down', extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'down' } }]);
  });
});
