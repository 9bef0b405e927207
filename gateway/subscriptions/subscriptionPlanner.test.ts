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
