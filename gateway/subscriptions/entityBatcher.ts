// Batches the entity fetches of subscription events that arrive together. Each event runs
// its own plan, so ten events that reach the gateway in one read would make ten `_entities`
// calls to each subgraph; this wrapper holds the calls made in the same turn of the event
// loop and sends one call per (subgraph, operation, other variables, caller) instead, then
// hands each event its own slice of the answer. A fetch of `@callerIndependent` fields only
// (SubgraphCall.sharedAcrossCallers) is batched across callers too.
import type { GraphQLFormattedError } from 'graphql';
import type { SubgraphCall, SubgraphResponse as Response, SubgraphSource } from '../execution/subgraphDataSource';

interface Waiting {
  readonly options: SubgraphCall;
  readonly representations: unknown[];
  resolve(r: Response): void;
  reject(e: unknown): void;
}

/**
 * @param scopeOf who a call is made for: calls for different callers never share a request,
 * because the subgraph authorises each against its caller.
 */
export function createBatchingDataSource(
  inner: SubgraphSource,
  scopeOf: (context: unknown) => string,
  onBatch?: (calls: number) => void,
  /** How long the first call waits for others; 0: until the current I/O phase is over. */
  windowMs = 2,
  /** Most events served by one call. */
  maxPerCall = 50,
): SubgraphSource {
  const pending = new Map<string, Waiting[]>();
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const groups = [...pending.values()];
    pending.clear();
    // A burst is sent as several calls of bounded size: the subgraph answers the first ones
    // while it works on the rest, instead of the whole burst waiting for one huge answer.
    for (const group of groups) for (let i = 0; i < group.length; i += maxPerCall) void send(group.slice(i, i + maxPerCall));
  }

  async function send(group: Waiting[]): Promise<void> {
    onBatch?.(group.length);
    if (group.length === 1) {
      const only = group[0]!;
      return inner.process(only.options).then(only.resolve, only.reject);
    }
    const first = group[0]!.options;
    const all = group.flatMap((w) => w.representations);
    let response: Response;
    try {
      response = await inner.process({
        ...first,
        request: { ...first.request, variables: { ...first.request.variables, representations: all } },
      } as SubgraphCall);
    } catch (e) {
      for (const w of group) w.reject(e);
      return;
    }
    const entities = (response.data as { _entities?: unknown[] } | null | undefined)?._entities;
    let offset = 0;
    for (const w of group) {
      const from = offset;
      const to = (offset += w.representations.length);
      const errors: GraphQLFormattedError[] = [];
      for (const err of (response.errors ?? []) as GraphQLFormattedError[]) {
        const at = err.path?.[0] === '_entities' && typeof err.path[1] === 'number' ? err.path[1] : null;
        // An error about one entity goes to the event that asked for it, re-indexed; an error
        // about the whole call goes to every event in it.
        if (at === null) errors.push(err);
        else if (at >= from && at < to) errors.push({ ...err, path: ['_entities', at - from, ...err.path!.slice(2)] });
      }
      w.resolve({
        ...response,
        data: Array.isArray(entities) ? { ...response.data, _entities: entities.slice(from, to) } : response.data,
        ...(errors.length > 0 ? { errors } : { errors: undefined }),
      } as Response);
    }
  }

  return {
    process(options) {
      const variables = options.request.variables as Record<string, unknown> | undefined;
      const representations = variables?.representations;
      if (!Array.isArray(representations)) return inner.process(options);
      const { representations: _r, ...rest } = variables!;
      // Tagged so that no caller's scope, whatever scopeOf returns, can equal the shared one.
      const scope = options.sharedAcrossCallers ? 'shared' : `caller ${scopeOf(options.context)}`;
      const key = `${scope}\n${options.request.query}\n${JSON.stringify(rest)}`;
      return new Promise<Response>((resolve, reject) => {
        const list = pending.get(key);
        const waiting: Waiting = { options: options as SubgraphCall, representations, resolve, reject };
        if (list) list.push(waiting);
        else pending.set(key, [waiting]);
        if (!scheduled) {
          scheduled = true;
          // A short window rather than one turn of the event loop: events reach the gateway a
          // few per read, and a busy process reads often, so one turn batches little.
          if (windowMs > 0) setTimeout(flush, windowMs);
          else setImmediate(flush);
        }
      });
    },
  };
}
