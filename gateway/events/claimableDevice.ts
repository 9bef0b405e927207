// Which device ids a signed-in customer may claim (docs/client-events.md, "Signing in"). A claim
// joins the device's anonymous activity to the first customer seen on it, and the gateway cannot
// tell whose device an id names: it takes the client's word. So only an id that nobody can guess
// may be claimed: one that carries a random (version 4) UUID, 122 random bits, alone or after a
// short prefix the app chose (`web-`, `ios:`). Events on any other id are still taken and folded
// under the device or the customer; only the join at sign-in is withheld, so a serial number, an
// advertising id or `device-1234` cannot be claimed by someone who guessed or copied it.

/** EVENTS_DEVICE_CLAIMS: `uuid` joins only ids carrying a random UUID; `any` joins every id (the client's word). */
export type DeviceClaimRule = 'uuid' | 'any';

export const DEVICE_CLAIM_RULES: readonly DeviceClaimRule[] = ['uuid', 'any'];

// 8-4-4-4-12 hex digits, version nibble 4, variant 10xx (RFC 9562): what crypto.randomUUID() and
// the platforms' UUID APIs make. Case-insensitive, as those APIs differ in case.
const RANDOM_UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
// The prefix is letters, digits, '.', '_' or '-', at most 32 characters, ending in '-' or ':'
// before the UUID, so the UUID is the id's whole random part and nothing follows it.
const CLAIMABLE = new RegExp(`^(?:[a-z0-9._-]{0,31}[-:])?${RANDOM_UUID}$`, 'i');

/** True when a signed-in customer's events on this device may claim it under the rule. */
export function isClaimableDevice(deviceId: string, rule: DeviceClaimRule): boolean {
  return rule === 'any' || CLAIMABLE.test(deviceId);
}
