// The gateway's settings: EVENTS_MAX_BATCH is bounded by what may wait for Kafka at once.
import { ConfigError } from '../platform/configError';
import { gatewayConfigFromEnv } from './config';
import { MAX_PENDING_EVENTS } from './events/eventIngest';

it('takes EVENTS_MAX_BATCH up to the events that may wait for Kafka at once, and refuses more at start', () => {
  expect(gatewayConfigFromEnv({ EVENTS_MAX_BATCH: String(MAX_PENDING_EVENTS) }).events?.settings.maxBatch).toBe(MAX_PENDING_EVENTS);
  expect(() => gatewayConfigFromEnv({ EVENTS_MAX_BATCH: String(MAX_PENDING_EVENTS + 1) })).toThrow(ConfigError);
  expect(() => gatewayConfigFromEnv({ EVENTS_MAX_BATCH: String(MAX_PENDING_EVENTS + 1) })).toThrow(/EVENTS_MAX_BATCH=20001 is more than the 20000/);
});
