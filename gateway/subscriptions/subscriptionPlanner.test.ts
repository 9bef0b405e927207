// Subscription planning on the checked-in supergraph: the primary goes to the owner with the
// root object's key added, and events are recognised as states of keyed objects.
import fs from 'node:fs';
import { parse } from 'graphql';
import { SUPERGRAPH_PATH } from '../../schema/subgraphs';
import { createSupergraphPlanner } from './subscriptionPlanner';

const planner = createSupergraphPlanner(fs.readFileSync(SUPERGRAPH_PATH, 'utf8'));
const plan = (q: string) => planner.plan(q, parse(q), undefined);

describe('createSupergraphPlanner', () => {
  it('sends orderUpdated to orders with the order id added, and fetches the rest per event', () => {
    const p = plan('subscription($id: ID!) { orderUpdated(id: $id) { status customer { name } } }');
    expect(p.primary.serviceName).toBe('orders');
    expect(p.primary.operation).toContain('__sg_key_id: id');
    expect(p.hasRest).toBe(true);
    expect(p.keyOf({ orderUpdated: { status: 'PLACED', __sg_key_id: 'o-1' } })).toBe('["o-1"]');
    expect(p.keyOf({ orderUpdated: null })).toBeNull();
    expect(planner.wsUrlOf('orders')).toMatch(/^ws:\/\/.*\/graphql$/);
  });

  it('keys inventoryChanged by store and product, with no entity fetch when the catalog has every field', () => {
    const p = plan('subscription { inventoryChanged(storeId: "s") { quantity product { name } } }');
    expect(p.primary.serviceName).toBe('catalog');
    expect(p.hasRest).toBe(false);
    expect(p.keyOf({ inventoryChanged: { quantity: 1, __sg_key_storeId: 's', __sg_key_productId: 'p' } })).toBe('["s","p"]');
  });

  it('plans once per document', () => {
    const q = 'subscription { myOrders { id } }';
    expect(plan(q)).toBe(plan(q));
  });
});

describe('fragments the planner shares selections through', () => {
  it('go upstream with the primary operation when the key fields are added', () => {
    const q = 'subscription($id: ID!) { orderUpdated(id: $id) { items { product { id name } } shortItems { product { id name } } } }';
    const p = plan(q);
    const doc = parse(p.primary.operation);
    const spreads = [...p.primary.operation.matchAll(/\.\.\.([_A-Za-z]\w*)/g)].map((m) => m[1]).filter((n) => n !== 'on');
    const defined = doc.definitions.filter((d) => d.kind === 'FragmentDefinition').map((d) => (d as { name: { value: string } }).name.value);
    for (const name of spreads) expect(defined).toContain(name);
    expect(p.primary.operation).toContain('__sg_key_id: id');
  });
});

describe('entity fetches shared across callers', () => {
  it("marks the catalog's product fetch of an order's event shareable, and the customer's not", async () => {
    const q = 'subscription($id: ID!) { orderUpdated(id: $id) { customer { name } items { product { name availability(storeId: "s") { quantity } } } } }';
    const calls: Array<{ service: string; shared: boolean | undefined }> = [];
    const source = (service: string) => ({
      process: async (options: { request: { variables?: Record<string, unknown> }; sharedAcrossCallers?: boolean }) => {
        calls.push({ service, shared: options.sharedAcrossCallers });
        const reps = (options.request.variables?.representations ?? []) as unknown[];
        return { data: { _entities: reps.map(() => ({ name: 'x', availability: null })) } } as never;
      },
    });
    const event = { data: { orderUpdated: { __sg_key_id: 'o', customer: { __typename: 'Customer', id: 'c' }, items: [{ product: { __typename: 'Product', id: 'p' } }] } } };
    await plan(q).executeEvent({ customers: source('customers'), catalog: source('catalog') } as never, event, { variables: { id: 'o' } }, {});
    expect(calls.sort((a, b) => a.service.localeCompare(b.service))).toEqual([
      { service: 'catalog', shared: true },
      { service: 'customers', shared: false },
    ]);
  });
});
