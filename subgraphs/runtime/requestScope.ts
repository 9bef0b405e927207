// What one subgraph request did, kept in AsyncLocalStorage so that deep code (a command's
// emit) can record it without threading the request through every call: the positions
// it wrote, which the response reports so the gateway can build a consistency token.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { WrittenAt } from './producer';

export interface RequestScope {
  readonly written: WrittenAt[];
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` with a fresh scope and returns its result and the scope. */
export async function withRequestScope<T>(fn: () => Promise<T>): Promise<{ result: T; scope: RequestScope }> {
  const scope: RequestScope = { written: [] };
  const result = await storage.run(scope, fn);
  return { result, scope };
}

/** Records a write in the current request's scope (no-op outside a request). */
export function noteWritten(at: WrittenAt): void {
  storage.getStore()?.written.push(at);
}

/** The current request's scope, if code runs inside one. */
export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}
