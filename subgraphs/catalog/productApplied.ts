// Read-your-writes for products, whose writes reach the view through the database's change
// stream rather than an event the mutation produced: wait until the product's state holds the
// write (a source LSN at or above the write's floor, or the same values when nothing changed),
// then record where that change is on the CDC topic for the consistency token.
import { GraphQLError } from 'graphql';
import { CATALOG_PRODUCTS_CDC_TOPIC } from '../../schema/events';
import { noteWritten } from '../runtime/requestScope';
import type { SubgraphRuntime, View } from '../runtime/subgraphRuntime';
import type { ProductRowInput, ProductWrite } from './productStore';
import type { ProductState } from './projection';

/** Written to the database, not yet readable: re-reading later helps, retrying would write again. */
function acceptedNotApplied(id: string, write: ProductWrite, timeoutMs: number): GraphQLError {
  const where = write.changed ? ` (catalog database, LSN at or after ${write.lsnFloor})` : '';
  return new GraphQLError(`the change to product ${id} was committed${where} but is not readable yet after ${timeoutMs} ms; read it again shortly`, {
    extensions: { code: 'ACCEPTED_NOT_APPLIED', source: 'catalog database', ...(write.changed ? { lsn: write.lsnFloor } : {}) },
  });
}

const holds = (row: ProductRowInput, write: ProductWrite) => (s: ProductState | null | undefined): s is ProductState => {
  if (!s) return false;
  if (write.changed) return typeof s.sourceLsn === 'number' && s.sourceLsn >= write.lsnFloor;
  return s.name === row.name && s.brand === row.brand && s.category === row.category && s.priceCents === row.priceCents;
};

export async function awaitProductApplied(
  runtime: SubgraphRuntime,
  view: View<ProductState>,
  row: ProductRowInput,
  write: ProductWrite,
  timeoutMs: number,
): Promise<ProductState> {
  const done = holds(row, write);
  // Listening before reading: a change applied between the read and the listen is not missed.
  const changes = view.notices.listen((c) => c.id === row.id, 64, [row.id]);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    let state = (await view.reader.getMany([row.id]))[0];
    while (!done(state)) {
      const next = await Promise.race([changes.next(), timedOut]);
      if (next === 'timeout' || next.done) throw acceptedNotApplied(row.id, write, timeoutMs);
      state = next.value.state ?? undefined;
    }
    // A state folded before positions were recorded (an older view) names no position to wait for.
    if (state.position) noteWritten({ topic: runtime.topic(CATALOG_PRODUCTS_CDC_TOPIC), partition: state.position.partition, offset: state.position.offset });
    return state;
  } finally {
    clearTimeout(timer);
    changes.close();
  }
}
