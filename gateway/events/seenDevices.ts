// Which (customer, device) pairs this gateway process has already announced with DeviceSignedIn,
// bounded: the oldest pair is forgotten first. Forgetting one costs only a repeated event, which
// the fold ignores (a device joins the first customer who signs in on it, once).
export interface SeenDevices {
  has(customerId: string, deviceId: string): boolean;
  add(customerId: string, deviceId: string): void;
  readonly size: number;
}

export function createSeenDevices(max: number): SeenDevices {
  // A Set keeps insertion order, so its first entry is the oldest.
  const pairs = new Set<string>();
  const key = (c: string, d: string) => `${c}\u0000${d}`;
  return {
    has: (c, d) => pairs.has(key(c, d)),
    add(c, d) {
      const k = key(c, d);
      pairs.delete(k);
      pairs.add(k);
      while (pairs.size > max) pairs.delete(pairs.values().next().value as string);
    },
    get size() {
      return pairs.size;
    },
  };
}
