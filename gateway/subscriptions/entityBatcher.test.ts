// Entity-fetch batching across subscription events: pure logic over a recording data source.
import type { SubgraphSource } from '../execution/subgraphDataSource';
import { createBatchingDataSource } from './entityBatcher';

const ENTITIES = 'query Q($representations:[_Any!]!$store:ID!){_entities(representations:$representations){...on Product{name}}}';

function recordingSource(answer: (reps: Array<{ id: string }>) => { data?: unknown; errors?: unknown[] }) {
  const calls: Array<{ reps: Array<{ id: string }>; variables: Record<string, unknown> }> = [];
  const source: SubgraphSource = {
    process: async (options) => {
      const variables = options.request.variables as Record<string, unknown>;
      calls.push({ reps: variables.representations as Array<{ id: string }>, variables });
      return answer(variables.representations as Array<{ id: string }>) as never;
    },
  };
  return { source, calls };
}
const call = (ds: SubgraphSource, ids: string[], scope: string, store = 's1') =>
  ds.process({
    request: { query: ENTITIES, variables: { representations: ids.map((id) => ({ __typename: 'Product', id })), store } },
    context: { scope },
  } as never);

describe('createBatchingDataSource', () => {
  it('sends the fetches of events that arrive together as one call and hands each event its slice', async () => {
    const { source, calls } = recordingSource((reps) => ({ data: { _entities: reps.map((r) => ({ name: `n-${r.id}` })) } }));
    const ds = createBatchingDataSource(source, (ctx) => (ctx as { scope: string }).scope);
    const [a, b, c] = await Promise.all([call(ds, ['1', '2'], 'u'), call(ds, ['3'], 'u'), call(ds, ['4'], 'u')]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.reps.map((r) => r.id)).toEqual(['1', '2', '3', '4']);
    expect(calls[0]!.variables.store).toBe('s1');
    expect(a.data).toEqual({ _entities: [{ name: 'n-1' }, { name: 'n-2' }] });
    expect(b.data).toEqual({ _entities: [{ name: 'n-3' }] });
    expect(c.data).toEqual({ _entities: [{ name: 'n-4' }] });
  });

  it('splits a burst into calls of bounded size', async () => {
    const { source, calls } = recordingSource((reps) => ({ data: { _entities: reps.map((r) => ({ name: r.id })) } }));
    const ds = createBatchingDataSource(source, () => 'u', undefined, 2, 3);
    const results = await Promise.all(Array.from({ length: 7 }, (_, i) => call(ds, [String(i)], 'u')));
    expect(calls.map((c) => c.reps.length)).toEqual([3, 3, 1]);
    expect(results.map((r) => (r.data as { _entities: Array<{ name: string }> })._entities[0]!.name)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
  });

  it('never mixes callers or different variables in one call', async () => {
    const { source, calls } = recordingSource((reps) => ({ data: { _entities: reps.map(() => ({ name: 'x' })) } }));
    const ds = createBatchingDataSource(source, (ctx) => (ctx as { scope: string }).scope);
    await Promise.all([call(ds, ['1'], 'alice'), call(ds, ['2'], 'bob'), call(ds, ['3'], 'alice', 's2')]);
    expect(calls).toHaveLength(3);
  });

  it('shares a call across callers only when every fetch in it asks for caller-independent fields', async () => {
    const { source, calls } = recordingSource((reps) => ({ data: { _entities: reps.map((r) => ({ name: r.id })) } }));
    const ds = createBatchingDataSource(source, (ctx) => (ctx as { scope: string }).scope);
    const shared = (ids: string[], scope: string) =>
      ds.process({
        request: { query: ENTITIES, variables: { representations: ids.map((id) => ({ __typename: 'Product', id })), store: 's1' } },
        context: { scope },
        sharedAcrossCallers: true,
      } as never);
    const [a, b] = await Promise.all([shared(['1'], 'alice'), shared(['2'], 'bob'), call(ds, ['3'], 'carol')]);
    expect(calls.map((c) => c.reps.map((r) => r.id))).toEqual([['1', '2'], ['3']]);
    expect(a.data).toEqual({ _entities: [{ name: '1' }] });
    expect(b.data).toEqual({ _entities: [{ name: '2' }] });
  });

  it('routes an error about one entity to the event that asked for it, re-indexed, and whole-call errors to all', async () => {
    const { source } = recordingSource((reps) => ({
      data: { _entities: reps.map((r) => (r.id === '3' ? null : { name: r.id })) },
      errors: [{ message: 'no 3', path: ['_entities', 2, 'name'] }, { message: 'whole call' }],
    }));
    const ds = createBatchingDataSource(source, () => 'u');
    const [a, b] = await Promise.all([call(ds, ['1', '2'], 'u'), call(ds, ['3'], 'u')]);
    expect(a.errors).toEqual([{ message: 'whole call' }]);
    expect(b.errors).toEqual([{ message: 'no 3', path: ['_entities', 0, 'name'] }, { message: 'whole call' }]);
    expect(b.data).toEqual({ _entities: [null] });
  });

  it('fails every event of a call that fails', async () => {
    const source: SubgraphSource = { process: async () => Promise.reject(new Error('subgraph down')) };
    const ds = createBatchingDataSource(source, () => 'u');
    const results = await Promise.allSettled([call(ds, ['1'], 'u'), call(ds, ['2'], 'u')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
