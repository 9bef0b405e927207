// The traffic simulator's world as a pure, seeded generator: the same seed and options
// always yield the same events (only their timestamps follow the clock). Products are not
// events: the catalog's back office writes them to the catalog database (the system of
// record), so the world yields them as product rows for the CLI to write with SQL.
import { CATALOG_INVENTORY_TOPIC, createEvent, CUSTOMERS_TOPIC, type EventOf, ORDERS_TOPIC, type OrderStatus, type TopicContract } from '../../schema/events';
import { isLegalTransition } from '../../subgraphs/orders/transitions';

export interface SimulationOptions {
  readonly seed: number;
  readonly stores: number;
  readonly products: number;
  readonly customers: number;
  /** New orders per second. */
  readonly ordersPerSecond: number;
  /** Inventory reports per second across all stores. */
  readonly inventoryPerSecond: number;
  /** Price changes per second, written to the catalog database. */
  readonly priceChangesPerSecond: number;
  /** New products per minute, written to the catalog database. */
  readonly newProductsPerMinute: number;
  /** How long an order takes from placement to delivery, on average. */
  readonly lifecycleSeconds: number;
  readonly ticksPerSecond: number;
  /**
   * Names this run's orders and events. Orders of a second run must not collide with the
   * first run's (the fold would ignore them), so the CLI uses the start time.
   */
  readonly runId: string;
}

export const DEFAULT_SIMULATION: SimulationOptions = {
  seed: 1,
  stores: 20,
  products: 200,
  customers: 500,
  ordersPerSecond: 5,
  inventoryPerSecond: 20,
  priceChangesPerSecond: 1,
  newProductsPerMinute: 2,
  lifecycleSeconds: 40,
  ticksPerSecond: 10,
  runId: 'r1',
};

/** An event with the contract of the topic it goes to. */
type SimEventOf<C extends TopicContract> = { topic: C; event: EventOf<C> };
export type SimEvent = SimEventOf<typeof CUSTOMERS_TOPIC> | SimEventOf<typeof CATALOG_INVENTORY_TOPIC> | SimEventOf<typeof ORDERS_TOPIC>;

/** A product row as the back office writes it to the catalog database (insert or update). */
export interface SimProduct {
  readonly id: string;
  readonly name: string;
  readonly brand: string | null;
  readonly category: string;
  readonly priceCents: number;
}

/** What one tick does: events to publish, or a product row to write. */
export type SimStep = SimEvent | { readonly product: SimProduct };

export const isProductWrite = (s: SimStep): s is { readonly product: SimProduct } => 'product' in s;

const FORWARD: OrderStatus[] = ['PLACED', 'SHOPPER_ASSIGNED', 'PICKING', 'OUT_FOR_DELIVERY', 'DELIVERED'];
/** The chance that a shopper reports an item of an order not found when picking starts. */
export const NOT_FOUND_CHANCE = 0.1;
const CATEGORIES = ['fruit', 'vegetables', 'dairy', 'bakery', 'pantry', 'drinks', 'frozen', 'household'];
const NAMES = ['Apple', 'Banana', 'Carrot', 'Milk', 'Bread', 'Rice', 'Juice', 'Peas', 'Soap', 'Yogurt', 'Cheese', 'Tea'];

/** mulberry32: small, fast and good enough to make traffic look random but repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ids of the simulated world, so demos and docs can name a real store or customer. */
export const simIds = {
  store: (i: number) => `store-${i + 1}`,
  product: (i: number) => `product-${i + 1}`,
  customer: (i: number) => `customer-${i + 1}`,
};

/**
 * The world's events tick by tick: the first tick registers stores, products, customers and
 * initial stock; every later tick places orders, advances open ones and reports inventory.
 */
export function* simulation(opts: SimulationOptions, now: () => string = () => new Date().toISOString()): Generator<SimStep[]> {
  const rnd = seededRandom(opts.seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  let seq = 0;
  const eventId = () => `sim-${opts.runId}-${opts.seed}-${++seq}`;
  const at = () => ({ eventId: eventId(), occurredAt: now() });
  const prices = Array.from({ length: opts.products }, () => 50 + pick(2000));
  const stock = new Map<string, number>();

  const product = (p: number): SimProduct => ({
    id: simIds.product(p),
    name: `${NAMES[p % NAMES.length]} ${Math.floor(p / NAMES.length) + 1}`,
    category: CATEGORIES[p % CATEGORIES.length],
    brand: p % 3 === 0 ? 'Own Brand' : null,
    priceCents: prices[p],
  });
  const first: SimStep[] = [];
  for (let s = 0; s < opts.stores; s++)
    first.push({ topic: CATALOG_INVENTORY_TOPIC, event: createEvent(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId: simIds.store(s), name: `Store ${s + 1}` }, at()) });
  for (let p = 0; p < opts.products; p++) first.push({ product: product(p) });
  for (let c = 0; c < opts.customers; c++)
    first.push({
      topic: CUSTOMERS_TOPIC,
      event: createEvent(CUSTOMERS_TOPIC, 'CustomerRegistered', { customerId: simIds.customer(c), name: `Customer ${c + 1}`, email: `customer${c + 1}@example.com`, tier: c % 5 === 0 ? 'PLUS' : 'STANDARD' }, at()),
    });
  for (let s = 0; s < opts.stores; s++)
    for (let p = 0; p < opts.products; p += 1 + pick(3)) {
      const quantity = pick(60);
      stock.set(`${s}:${p}`, quantity);
      first.push({ topic: CATALOG_INVENTORY_TOPIC, event: createEvent(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId: simIds.store(s), productId: simIds.product(p), quantity }, at()) });
    }
  yield first;

  type Open = { id: string; customerId: string; storeId: string; totalCents: number; status: OrderStatus; productIds: string[] };
  const open: Open[] = [];
  let orderSeq = 0;
  // Four forward steps over the lifecycle: the chance per tick that an order moves on.
  const advanceChance = Math.min(1, 4 / (opts.lifecycleSeconds * opts.ticksPerSecond));
  const perTick = (rate: number) => {
    const whole = Math.floor(rate / opts.ticksPerSecond);
    return whole + (rnd() < rate / opts.ticksPerSecond - whole ? 1 : 0);
  };
  for (;;) {
    const tick: SimStep[] = [];
    // The back office reprices products now and then (within 20% either way) and adds new ones.
    for (let n = perTick(opts.priceChangesPerSecond); n > 0 && prices.length > 0; n--) {
      const p = pick(prices.length);
      prices[p] = Math.max(1, Math.round(prices[p] * (0.8 + rnd() * 0.4)));
      tick.push({ product: product(p) });
    }
    for (let n = perTick(opts.newProductsPerMinute / 60); n > 0; n--) {
      prices.push(50 + pick(2000));
      tick.push({ product: product(prices.length - 1) });
    }
    for (let n = perTick(opts.ordersPerSecond); n > 0; n--) {
      const storeId = simIds.store(pick(opts.stores));
      const lines = 1 + pick(5);
      const items = Array.from({ length: lines }, () => {
        const p = pick(prices.length);
        return { productId: simIds.product(p), quantity: 1 + pick(4), unitPriceCents: prices[p] };
      });
      const order: Open = {
        id: `order-${opts.runId}-${opts.seed}-${++orderSeq}`,
        customerId: simIds.customer(pick(opts.customers)),
        storeId,
        totalCents: items.reduce((a, i) => a + i.quantity * i.unitPriceCents, 0),
        status: 'PLACED',
        productIds: [...new Set(items.map((i) => i.productId))],
      };
      open.push(order);
      tick.push({ topic: ORDERS_TOPIC, event: createEvent(ORDERS_TOPIC, 'OrderPlaced', { orderId: order.id, customerId: order.customerId, storeId, items, totalCents: order.totalCents }, at()) });
    }
    for (let i = open.length - 1; i >= 0; i--) {
      const o = open[i];
      if (rnd() >= advanceChance) continue;
      const cancel = rnd() < 0.05 && isLegalTransition(o.status, 'CANCELED');
      const to: OrderStatus = cancel ? 'CANCELED' : FORWARD[FORWARD.indexOf(o.status) + 1];
      // The order's products go with a cancel or delivery: the store's inventory releases or consumes them.
      tick.push({
        topic: ORDERS_TOPIC,
        event: createEvent(
          ORDERS_TOPIC,
          'OrderStatusChanged',
          { orderId: o.id, customerId: o.customerId, storeId: o.storeId, totalCents: o.totalCents, from: o.status, to, by: 'simulator', productIds: o.productIds },
          at(),
        ),
      });
      o.status = to;
      // Picking, a shopper sometimes does not find an item in the aisle (docs/reservations.md).
      if (to === 'PICKING' && rnd() < NOT_FOUND_CHANCE) {
        const productId = o.productIds[pick(o.productIds.length)];
        tick.push({
          topic: ORDERS_TOPIC,
          event: createEvent(
            ORDERS_TOPIC,
            'OrderStatusChanged',
            { orderId: o.id, customerId: o.customerId, storeId: o.storeId, totalCents: o.totalCents, from: to, to, by: 'simulator', notFound: productId },
            at(),
          ),
        });
      }
      if (to === 'DELIVERED' || to === 'CANCELED') open.splice(i, 1);
    }
    // Shoppers revise the delivery estimate of orders under way every few seconds.
    for (const o of open) {
      if (o.status === 'PLACED' || rnd() >= 1 / (5 * opts.ticksPerSecond)) continue;
      const estimatedDeliveryAt = new Date(Date.parse(now()) + (10 + pick(50)) * 60_000).toISOString();
      tick.push({
        topic: ORDERS_TOPIC,
        event: createEvent(ORDERS_TOPIC, 'OrderEtaUpdated', { orderId: o.id, customerId: o.customerId, storeId: o.storeId, estimatedDeliveryAt, by: 'simulator' }, at()),
      });
    }
    for (let n = perTick(opts.inventoryPerSecond); n > 0; n--) {
      const s = pick(opts.stores);
      const p = pick(opts.products);
      const key = `${s}:${p}`;
      const quantity = Math.max(0, (stock.get(key) ?? 20) + pick(21) - 12);
      stock.set(key, quantity);
      tick.push({ topic: CATALOG_INVENTORY_TOPIC, event: createEvent(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId: simIds.store(s), productId: simIds.product(p), quantity }, at()) });
    }
    yield tick;
  }
}
