// The catalog subgraph: products, stores and stock levels as a Federation 2 subgraph. Products
// live in the catalog database (the system of record); their changes reach the view through
// Debezium, so the database, its migrations and the connector are made ready before the views.
import { createLogger } from '../../platform/logger';
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '../runtime/startSubgraph';
import { openCatalogDatabase, type CatalogDatabase } from './catalogDatabase';
import { catalogSourceFromEnv, type CatalogSourceSettings } from './catalogSource';
import { declaration } from './declaration';
import { startReservationRelays } from './reservationRelays';
import { createCatalogSchema } from './schema';

export type CatalogHandle = SubgraphHandle<typeof declaration.views> & { readonly database: CatalogDatabase };

export interface CatalogOptions extends SubgraphOptions {
  /** The database and Connect cluster; default from the environment (catalogSourceFromEnv). */
  readonly source?: Partial<CatalogSourceSettings>;
}

/** Opens the database (migrations, connector), starts the declared views and then the server; close() stops them. */
export async function startCatalogSubgraph(opts: CatalogOptions): Promise<CatalogHandle> {
  const settings = { ...catalogSourceFromEnv(), ...opts.source };
  const logger = opts.logger ?? createLogger(declaration.name);
  const database = await openCatalogDatabase(settings, {
    namespace: opts.namespace ?? '',
    logger,
    writeTimeoutMs: opts.writeTimeoutMs ?? 5000,
  });
  try {
    const handle = await startSubgraph(declaration, opts, () => createCatalogSchema(database));
    // The store's inventory writer decides reservations; these relays feed it and publish its decisions.
    const relays = await startReservationRelays(handle.runtime, handle.views.inventory, opts.sessionTimeoutMs).catch(async (e: unknown) => {
      await handle.close();
      throw e;
    });
    let closing: Promise<void> | undefined;
    return {
      ...handle,
      database,
      close: () =>
        (closing ??= (async () => {
          await relays.stop();
          await handle.close();
          await database.close();
        })()),
    };
  } catch (e) {
    await database.close();
    throw e;
  }
}

export type { CatalogViews } from './context';
