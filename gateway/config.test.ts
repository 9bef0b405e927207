// The gateway's settings: EVENTS_MAX_BATCH is bounded by what may wait for Kafka at once; EVENTS_DEVICE_CLAIMS is one of its rules.
import { ConfigError } from '../platform/configError';
import { gatewayConfigFromEnv } from './config';
import { MAX_PENDING_EVENTS } from './events/eventIngest';

it('takes EVENTS_MAX_BATCH up to the events that may wait for Kafka at once, and refuses more at start', () => {
  expect(gatewayConfigFromEnv({ EVENTS_MAX_BATCH: String(MAX_PENDING_EVENTS) }).events?.settings.maxBatch).toBe(MAX_PENDING_EVENTS);
  expect(() => gatewayConfigFromEnv({ EVENTS_MAX_BATCH: String(MAX_PENDING_EVENTS + 1) })).toThrow(ConfigError);
  expect(() => gatewayConfigFromEnv({ EVENTS_MAX_BATCH: String(MAX_PENDING_EVENTS + 1) })).toThrow(/EVENTS_MAX_BATCH=20001 is more than the 20000/);
});

it('claims only devices whose id carries a random UUID unless EVENTS_DEVICE_CLAIMS=any, and refuses another value at start', () => {
  expect(gatewayConfigFromEnv({}).events?.settings.deviceClaims).toBe('uuid');
  expect(gatewayConfigFromEnv({ EVENTS_DEVICE_CLAIMS: ' ANY ' }).events?.settings.deviceClaims).toBe('any');
  expect(gatewayConfigFromEnv({ EVENTS_DEVICE_CLAIMS: 'uuid' }).events?.settings.deviceClaims).toBe('uuid');
  expect(() => gatewayConfigFromEnv({ EVENTS_DEVICE_CLAIMS: 'none' })).toThrow(/EVENTS_DEVICE_CLAIMS="none" is neither uuid nor any/);
});
