// The orders subgraph: orders, their lifecycle and live updates as a Federation 2 subgraph.
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '../runtime/startSubgraph';
import { declaration } from './declaration';
import { startReservationRelay } from './reservationRelay';
import { createOrdersSchema } from './schema';

export type OrdersSubgraphHandle = SubgraphHandle<typeof declaration.views>;

/**
 * Starts the declared views (joining their consumer groups), the server, and the relay that
 * confirms orders from the store inventory's decisions; close() stops all of them.
 */
export async function startOrdersSubgraph(opts: SubgraphOptions): Promise<OrdersSubgraphHandle> {
  const handle = await startSubgraph(declaration, opts, createOrdersSchema);
  const relay = await startReservationRelay(handle.runtime, opts.sessionTimeoutMs).catch(async (e: unknown) => {
    await handle.close();
    throw e;
  });
  let closing: Promise<void> | undefined;
  return {
    ...handle,
    close: () =>
      (closing ??= (async () => {
        await relay.stop();
        await handle.close();
      })()),
  };
}
