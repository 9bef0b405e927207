// What a superseded subscription event hands on: its own trace and those it carried, oldest
// first, bounded; nothing at all when nothing was traced (tracing off costs no allocation).
import { tracesOf, type PendingEvent } from './supersededTraces';

const event = (traceparent?: string, carried?: string[]): PendingEvent => ({
  result: { data: {}, ...(traceparent ? { extensions: { traceparent } } : {}) } as PendingEvent['result'],
  at: 0n,
  carried,
});

it('hands on nothing when neither the event nor what it superseded was traced', () => {
  expect(tracesOf(event())).toBeUndefined();
});

it('hands on what it carried, then its own, then what the successor carried already', () => {
  expect(tracesOf(event('own', ['older']), ['newer'])).toEqual(['older', 'own', 'newer']);
  expect(tracesOf(event(undefined, ['older']))).toEqual(['older']);
});

it('keeps the newest eight', () => {
  const many = Array.from({ length: 10 }, (_, i) => `t${i}`);
  expect(tracesOf(event('own', many))).toEqual([...many.slice(3), 'own']);
});
