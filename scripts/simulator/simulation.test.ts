// The simulator's world: valid events, legal lifecycles, and the same stream for the same seed.
import { validateEvent } from '../../schema/events';
import { isLegalTransition } from '../../subgraphs/orders/transitions';
import { DEFAULT_SIMULATION, isProductWrite, simulation, type SimStep } from './simulation';

const take = (seed: number, ticks: number): SimStep[] => {
  const gen = simulation({ ...DEFAULT_SIMULATION, seed, ordersPerSecond: 50, priceChangesPerSecond: 5, newProductsPerMinute: 60 }, () => '2026-01-01T00:00:00.000Z');
  const out: SimStep[] = [];
  for (let i = 0; i < ticks; i++) out.push(...gen.next().value!);
  return out;
};

it('yields the same events for the same seed and different ones for another', () => {
  expect(take(7, 200)).toEqual(take(7, 200));
  expect(take(8, 200)).not.toEqual(take(7, 200));
});

it('yields events that satisfy their contracts and orders that follow legal transitions', () => {
  const status = new Map<string, string>();
  let changes = 0;
  let notFound = 0;
  for (const step of take(3, 400)) {
    if (isProductWrite(step)) continue;
    const { topic, event } = step;
    expect(() => validateEvent(topic, event)).not.toThrow();
    if (event.type === 'OrderPlaced') status.set(event.payload.orderId, 'PLACED');
    if (event.type === 'OrderStatusChanged' && event.payload.notFound !== undefined) {
      // A shopper's item not found while picking: the status does not move.
      expect(event.payload).toMatchObject({ from: 'PICKING', to: 'PICKING' });
      expect(status.get(event.payload.orderId)).toBe('PICKING');
      notFound++;
    } else if (event.type === 'OrderStatusChanged') {
      changes++;
      expect(status.get(event.payload.orderId)).toBe(event.payload.from);
      expect(isLegalTransition(event.payload.from, event.payload.to)).toBe(true);
      status.set(event.payload.orderId, event.payload.to);
    }
  }
  expect(status.size).toBeGreaterThan(100);
  expect(changes).toBeGreaterThan(100);
  expect(notFound).toBeGreaterThan(0);
});

it('writes the products to the catalog database first, then reprices some and adds new ones', () => {
  const steps = take(5, 400);
  const writes = steps.filter(isProductWrite).map((s) => s.product);
  expect(writes.slice(0, DEFAULT_SIMULATION.products).map((p) => p.id)).toEqual(Array.from({ length: DEFAULT_SIMULATION.products }, (_, i) => `product-${i + 1}`));
  const later = writes.slice(DEFAULT_SIMULATION.products);
  expect(later.filter((p) => Number(p.id.slice('product-'.length)) <= DEFAULT_SIMULATION.products).length).toBeGreaterThan(50);
  expect(later.some((p) => Number(p.id.slice('product-'.length)) > DEFAULT_SIMULATION.products)).toBe(true);
  for (const p of writes) expect(p.priceCents).toBeGreaterThan(0);
});
