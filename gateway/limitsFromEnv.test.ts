// Unit tests of the GATEWAY_* operation limit settings.
import { ConfigError } from '../platform/configError';
import { DEFAULT_LIMITS } from './limits';
import { limitsFromEnv } from './limitsFromEnv';

describe('limitsFromEnv', () => {
  it('defaults to DEFAULT_LIMITS', () => {
    expect(limitsFromEnv({})).toEqual({
      maxDepth: 12,
      maxAliases: 30,
      maxCost: 5000,
      maxBodyBytes: 102400,
      defaultListSize: 20,
      maxIntrospectionFields: 3,
      maxIntrospectionDepth: 20,
    });
    expect(limitsFromEnv({})).toEqual(DEFAULT_LIMITS);
  });

  it('reads every GATEWAY_* setting, and treats blank as unset', () => {
    expect(
      limitsFromEnv({
        GATEWAY_MAX_DEPTH: '8',
        GATEWAY_MAX_ALIASES: '0',
        GATEWAY_MAX_COST: ' 20000 ',
        GATEWAY_MAX_BODY_BYTES: '1048576',
        GATEWAY_DEFAULT_LIST_SIZE: '',
      }),
    ).toEqual({ ...DEFAULT_LIMITS, maxDepth: 8, maxAliases: 0, maxCost: 20000, maxBodyBytes: 1048576, defaultListSize: 20 });
  });

  it('rejects a bad value with one line saying what and how to fix it', () => {
    expect(() => limitsFromEnv({ GATEWAY_MAX_COST: 'lots' })).toThrow(
      'GATEWAY_MAX_COST="lots" is not a whole number of at least 1; set it like GATEWAY_MAX_COST=5000 or unset it for the default (5000)',
    );
    for (const [variable, raw] of [
      ['GATEWAY_MAX_DEPTH', '0'],
      ['GATEWAY_MAX_DEPTH', '-3'],
      ['GATEWAY_MAX_BODY_BYTES', '1e5'],
      ['GATEWAY_DEFAULT_LIST_SIZE', '2.5'],
      ['GATEWAY_MAX_ALIASES', '99999999999999999999'],
    ] as const) {
      let thrown: unknown;
      try {
        limitsFromEnv({ [variable]: raw });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toContain(`${variable}="${raw}"`);
      expect((thrown as Error).message).not.toContain('\n');
    }
  });
});
