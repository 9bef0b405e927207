// What one subgraph request did, kept in AsyncLocalStorage so that deep code (a command's
// emit) can record it without threading the request through every call: the positions
// it wrote, which the response reports so the gateway can build a consistency token.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { WrittenAt } from './producer';

export interface RequestScope {
  readonly written: WrittenAt[];
  /**
   * Writes a view was seen to apply for this request (read-your-writes): its later reads of
   * the view must come from a state that holds them.
   */
  readonly applied: Array<{ readonly view: string; readonly partition: number; readonly offset: number }>;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` with a fresh scope and returns its result and the scope. */
export async function withRequestScope<T>(fn: () => Promise<T>): Promise<{ result: T; scope: RequestScope }> {
  const scope: RequestScope = { written: [], applied: [] };
  const result = await storage.run(scope, fn);
  return { result, scope };
}

/** Records a write in the current request's scope (no-op outside a request). */
export function noteWritten(at: WrittenAt): void {
  storage.getStore()?.written.push(at);
}

/** Records that `view` applied a write of the current request (no-op outside a request). */
export function noteAppliedInRequest(view: string, partition: number, offset: number): void {
  storage.getStore()?.applied.push({ view, partition, offset });
}

/** Per partition, the highest offset of `view` the current request must read at or after. */
export function appliedFloor(view: string): Map<number, number> | null {
  const applied = storage.getStore()?.applied;
  if (!applied?.length) return null;
  let floor: Map<number, number> | null = null;
  for (const a of applied) {
    if (a.view !== view) continue;
    floor ??= new Map();
    floor.set(a.partition, Math.max(a.offset, floor.get(a.partition) ?? -1));
  }
  return floor;
}

/** The current request's scope, if code runs inside one. */
export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}
