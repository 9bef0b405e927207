// The projection metrics expose each partition's stats under stable names and labels.
import { Registry } from 'prom-client';
import { PartitionStatsRecorder } from './partitionStats';
import { registerProjectionMetrics } from './projectionMetrics';
import type { ViewState, ViewStatus } from './projection/viewHealth';

it('exposes lag, freshness, rate and dead letters per view and partition', async () => {
  const p0 = new PartitionStatsRecorder('orders', 0);
  p0.highWatermark = 120;
  p0.recordApplied(100, 99, '2026-01-01T00:00:00.000Z', Date.parse('2026-01-01T00:00:05Z'));
  p0.deadLetters = 2;
  const p1 = new PartitionStatsRecorder('orders', 1);
  const registry = new Registry();
  registerProjectionMetrics(registry, () => [{ view: 'orders', stats: () => [p0.snapshot(), p1.snapshot()] }]);
  const text = await registry.metrics();
  expect(text).toContain('streamgraph_projection_lag_records{view="orders",topic="orders",partition="0"} 20');
  expect(text).toContain('streamgraph_projection_checkpoint_offset{view="orders",topic="orders",partition="0"} 99');
  expect(text).toContain('streamgraph_projection_last_event_timestamp_seconds{view="orders",topic="orders",partition="0"} 1767225600');
  expect(text).toContain('streamgraph_projection_dead_letters_total{view="orders",topic="orders",partition="0"} 2');
  expect(text).toContain('streamgraph_projection_applied_events_total{view="orders",topic="orders",partition="0"} 100');
  // A partition with nothing known reports no lag rather than a made-up zero.
  expect(text).not.toContain('streamgraph_projection_lag_records{view="orders",topic="orders",partition="1"}');
});

it('computes the applied rate over a sliding window', () => {
  const s = new PartitionStatsRecorder('t', 0);
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < 9; i++) s.recordApplied(100, i, null, t0 + i * 1000);
  // Nine full seconds of 100 events, read during the tenth: 100 per second.
  expect(s.snapshot(t0 + 9_500).appliedPerSecond).toBe(100);
  // Ten seconds later with nothing applied, the rate has fallen to zero.
  expect(s.snapshot(t0 + 30_000).appliedPerSecond).toBe(0);
});

it('exposes each view\'s state: 1 for the one it is in, 0 for the others', async () => {
  const registry = new Registry();
  const status = (state: ViewState): ViewStatus => ({ state, reason: null, errorClass: null, since: '2026-01-01T00:00:00.000Z' });
  registerProjectionMetrics(registry, () => [
    { view: 'orders', stats: () => [], status: () => status('failed') },
    { view: 'prices', stats: () => [], status: () => status('running') },
  ]);
  const text = await registry.metrics();
  expect(text).toContain('streamgraph_projection_state{view="orders",state="failed"} 1');
  expect(text).toContain('streamgraph_projection_state{view="orders",state="running"} 0');
  expect(text).toContain('streamgraph_projection_state{view="prices",state="running"} 1');
  expect(text).toContain('streamgraph_projection_state{view="prices",state="failed"} 0');
});
