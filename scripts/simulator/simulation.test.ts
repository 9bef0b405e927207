// The simulator's world: valid events, legal lifecycles, and the same stream for the same seed.
import { validateEvent } from '../../schema/events';
import { isLegalTransition } from '../../subgraphs/orders/transitions';
import { DEFAULT_SIMULATION, simulation, type SimEvent } from './simulation';

const take = (seed: number, ticks: number): SimEvent[] => {
  const gen = simulation({ ...DEFAULT_SIMULATION, seed, ordersPerSecond: 50 }, () => '2026-01-01T00:00:00.000Z');
  const out: SimEvent[] = [];
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
  for (const { topic, event } of take(3, 400)) {
    expect(() => validateEvent(topic, event)).not.toThrow();
    if (event.type === 'OrderPlaced') status.set(event.payload.orderId, 'PLACED');
    if (event.type === 'OrderStatusChanged') {
      changes++;
      expect(status.get(event.payload.orderId)).toBe(event.payload.from);
      expect(isLegalTransition(event.payload.from, event.payload.to)).toBe(true);
      status.set(event.payload.orderId, event.payload.to);
    }
  }
  expect(status.size).toBeGreaterThan(100);
  expect(changes).toBeGreaterThan(100);
});
