// Each order's customer, store and version as the orders view holds them: who follows which
// order, and the truth lost updates are counted against at the end of a run.
import { IDENTITY_HEADER, signIdentity } from '../../platform/identity';
import { BENCH_ADMIN } from '../gateway/adminIdentity';

export interface OrderFacts {
  readonly id: string;
  readonly customerId: string;
  readonly storeId: string;
  readonly version: number;
}

/** Aliased `order(id)` reads, 250 per request, through the orders subgraph as the bench admin. */
export async function readOrders(ordersUrl: string, ids: readonly string[], identitySecret: string): Promise<OrderFacts[]> {
  const out: OrderFacts[] = [];
  for (let i = 0; i < ids.length; i += 250) {
    const chunk = ids.slice(i, i + 250);
    const query = `{ ${chunk.map((id, n) => `a${n}: order(id: ${JSON.stringify(id)}) { id version customer { id } store { id } }`).join(' ')} }`;
    const res = await fetch(ordersUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: signIdentity(BENCH_ADMIN, identitySecret) },
      body: JSON.stringify({ query }),
    });
    const body = (await res.json()) as {
      data?: Record<string, { id: string; version: number; customer: { id: string }; store: { id: string } } | null>;
      errors?: Array<{ message: string }>;
    };
    if (body.errors?.length) throw new Error(`reading orders from ${ordersUrl}: ${body.errors[0]!.message}`);
    chunk.forEach((id, n) => {
      const order = body.data?.[`a${n}`];
      if (!order) throw new Error(`order ${id} is not in the orders view`);
      out.push({ id, customerId: order.customer.id, storeId: order.store.id, version: order.version });
    });
  }
  return out;
}
