import { randomUUID } from 'node:crypto';
import { isClaimableDevice } from './claimableDevice';

describe('which device ids a customer may claim', () => {
  const uuid = randomUUID();

  it('under `uuid`, takes an id that is a random UUID, alone or after a short prefix, in either case', () => {
    for (const id of [uuid, uuid.toUpperCase(), `web-${uuid}`, `ios:${uuid}`, `demo.web_2-${uuid}`, `${'p'.repeat(31)}-${uuid}`])
      expect([id, isClaimableDevice(id, 'uuid')]).toEqual([id, true]);
  });

  it('under `uuid`, refuses guessable ids, UUIDs that are not random, and anything around the UUID', () => {
    const notRandom = [
      '00000000-0000-0000-0000-000000000000', // nil
      '6ba7b810-9dad-11d1-80b4-00c04fd430c8', // version 1: time and hardware address
      '886313e1-3b8a-5372-9b90-0c9aee199e5d', // version 5: a hash of a name
      `${uuid.slice(0, 19)}c${uuid.slice(20)}`, // variant bits not 10xx
    ];
    const wrapped = [`${uuid}-x`, `web ${uuid}`, `${'p'.repeat(32)}-${uuid}`, `web${uuid}`, `web/${uuid}`, uuid.replace(/-/g, '')];
    for (const id of ['device-1234', 'ada-phone', 'R58M3312ABC', '38400000-8cf0-11bd-b23e-10b96e40000d', ...notRandom, ...wrapped])
      expect([id, isClaimableDevice(id, 'uuid')]).toEqual([id, false]);
  });

  it('under `any`, takes every id (the client is trusted to make ids nobody can guess)', () => {
    for (const id of ['device-1234', 'ada-phone', uuid]) expect(isClaimableDevice(id, 'any')).toBe(true);
  });
});
