// The demo page in a real browser (system Chromium via playwright-core) against the real three
// subgraphs and a gateway: the board loads, the query box runs, an order placed through the page
// is tracked, and the shopper's and the store's changes reach the page live over graphql-ws.
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import type { Browser, Locator, Page } from 'playwright-core';
import { startGateway, type GatewayHandle } from '../../gateway/server';
import { signDevToken } from '../../gateway/token';
import { startCatalogSubgraph } from '../../subgraphs/catalog';
import { startCustomersSubgraph } from '../../subgraphs/customers';
import { startOrdersSubgraph } from '../../subgraphs/orders';
import type { SubgraphHandle } from '../../subgraphs/runtime/startSubgraph';
import { TEST_IDENTITY_SECRET } from '../support/graphqlClient';
import { createNamespace } from '../support/namespace';
import { waitFor } from '../support/waitFor';
import { launchChromium } from './chromium';
import { testGatewayConfig } from '../support/gatewayConfig';

const JWT_SECRET = 'demo-test-jwt-secret-0123456789abcdef';
const OUTPUT = path.resolve(__dirname, '..', '..', 'test-output');
/** How long the page may take to show what the servers already know (HTTP answers). */
const PAGE_MS = 15_000;
/** How long a change may take from mutation to the page over graphql-ws. */
const LIVE_MS = 20_000;
const STORE = 'store-demo';
const PRODUCTS = [
  { id: 'prod-oat', name: 'Oat milk', priceCents: 199, quantity: 40 },
  { id: 'prod-bread', name: 'Sourdough', priceCents: 450, quantity: 12 },
  { id: 'prod-tea', name: 'Green tea', priceCents: 320, quantity: 3 },
];

const token = (sub: string, role: 'customer' | 'shopper' | 'store' | 'admin') => signDevToken({ sub, roles: [role], secret: JWT_SECRET });
const admin = token('admin-1', 'admin');

let redis: Redis;
let subgraphs: SubgraphHandle[] = [];
let gateway: GatewayHandle;
let origin: string;
let browser: Browser;
let page: Page;
let customerId: string;
let orderId: string;
/** What the page reported that a test should never see: script errors and CSP violations. */
const pageProblems: string[] = [];

async function call(query: string, variables: Record<string, unknown> = {}, bearer?: string) {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

async function mustCall(query: string, variables: Record<string, unknown> = {}, bearer?: string) {
  const result = await call(query, variables, bearer);
  if (result.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** The page's own account of its live parts, for failure messages. */
async function liveState(): Promise<string> {
  const ids = ['conn-status', 'board-live', 'board-error', 'track-live', 'track-error', 'order-error'];
  const texts = await Promise.all(ids.map((id) => page.getByTestId(id).textContent({ timeout: 1_000 }).catch(() => '?')));
  return ids.map((id, i) => `${id}=${JSON.stringify(texts[i])}`).join(' ');
}

/** Waits until `target` shows exactly `expected` (or matches it); fails saying what it showed. */
async function waitForText(target: Locator, expected: string | RegExp, timeout = PAGE_MS): Promise<void> {
  const pattern = typeof expected === 'string' ? new RegExp(`^\\s*${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) : expected;
  try {
    await target.filter({ hasText: pattern }).waitFor({ timeout });
  } catch {
    const shown = await target.textContent({ timeout: 1_000 }).catch(() => '(not on the page)');
    throw new Error(`waited ${timeout} ms for ${target} to show ${pattern}; it shows ${JSON.stringify(shown)}; ${await liveState()}`);
  }
}

async function screenshot(name: string): Promise<void> {
  fs.mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: path.join(OUTPUT, name), fullPage: true });
}

const byTestId = (id: string) => page.getByTestId(id);
const boardCell = (productId: string, cell: 'name' | 'qty' | 'reserved' | 'available' | 'status' | 'version') =>
  page.locator(`[data-testid="board-table"] tr[data-product-id="${productId}"] td.${cell}`);

beforeAll(async () => {
  const namespace = await createNamespace('demo');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const opts = { namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 };
  subgraphs = await Promise.all([startCustomersSubgraph(opts), startCatalogSubgraph(opts), startOrdersSubgraph(opts)]);
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'demo-test' }));
  // The gateway serves the page itself, on the same origin as /graphql.
  origin = `http://127.0.0.1:${gateway.port}`;

  // The world the page shows: a customer, a store with three stocked products.
  await waitFor(async () => (await call('{ __typename }')).data, { what: 'the gateway to compose the supergraph' });
  customerId = (await mustCall(`mutation { registerCustomer(input: { name: "Grace Hopper", email: "grace@example.com" }) { id } }`)).registerCustomer.id;
  await mustCall(`mutation($id: ID!) { upsertStore(input: { id: $id, name: "Demo Corner" }) { id } }`, { id: STORE }, admin);
  for (const p of PRODUCTS) {
    await mustCall(`mutation($input: ProductInput!) { upsertProduct(input: $input) { id } }`, { input: { id: p.id, name: p.name, category: 'demo', priceCents: p.priceCents } }, admin);
    await mustCall(`mutation($s: ID!, $p: ID!, $q: Int!) { reportInventory(storeId: $s, productId: $p, quantity: $q) { version } }`, { s: STORE, p: p.id, q: p.quantity }, token(STORE, 'store'));
  }
  // The orders subgraph learns prices from the catalog's events, a moment after the catalog.
  // A deliberately wrong price is refused as BAD_USER_INPUT once it knows the product (and as
  // NOT_FOUND before): a probe that places nothing.
  for (const p of PRODUCTS)
    await waitFor(
      async () =>
        (await call(`mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`, { input: { storeId: STORE, items: [{ productId: p.id, quantity: 1, unitPriceCents: -1 }] } }, token(customerId, 'customer')))
          .errors?.[0]?.extensions?.code === 'BAD_USER_INPUT',
      { what: `the orders subgraph to know ${p.id}` },
    );

  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => pageProblems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageProblems.push(`CSP: ${m.text()}`);
  });
});

afterAll(async () => {
  // Taken whatever happened: when a step failed, the picture shows how far the page got.
  if (page) await screenshot('demo-last.png').catch(() => undefined);
  await browser?.close();
  await gateway?.close();
  await Promise.all(subgraphs.map((s) => s.close()));
  redis?.disconnect();
});

it('opens with the token and store from the fragment and shows the store’s inventory', async () => {
  await page.goto(`${origin}/demo#token=${token(customerId, 'customer')}&store=${STORE}`);
  // app.js marks the body once it ran, which needs its import of the graphql-ws client to load.
  await page.locator('body[data-ready="true"]').waitFor({ timeout: PAGE_MS });
  await waitForText(byTestId('token-claims'), new RegExp(`^${customerId} · customer · until`));
  await waitForText(byTestId('board-title'), `Demo Corner (${STORE})`);
  for (const p of PRODUCTS) {
    await waitForText(boardCell(p.id, 'name'), p.name);
    await waitForText(boardCell(p.id, 'qty'), String(p.quantity));
  }
  await waitForText(boardCell('prod-tea', 'status'), 'LOW_STOCK');
  expect(pageProblems).toEqual([]);
});

it('runs a query from the query box and shows the JSON answer', async () => {
  await byTestId('query-text').fill('query Me { me { id name } store(id: "store-demo") { name } }');
  await byTestId('query-run').click();
  await waitForText(byTestId('query-status'), /^HTTP 200 · \d+ ms$/);
  const answer = JSON.parse((await byTestId('query-output').textContent()) ?? '');
  expect(answer.data).toEqual({ me: { id: customerId, name: 'Grace Hopper' }, store: { name: 'Demo Corner' } });
});

it('places an order through the page and shows it in the tracker', async () => {
  expect(await byTestId('order-store').inputValue()).toBe(STORE);
  await byTestId('order-product-0').fill('prod-oat');
  await byTestId('order-qty-0').fill('2');
  await byTestId('order-add-line').click();
  await byTestId('order-product-1').fill('prod-tea');
  await byTestId('order-submit').click();
  await waitForText(byTestId('order-result'), /^Placed order \S+ · \$7\.18$/);
  orderId = (await byTestId('order-result').getAttribute('data-order-id'))!;
  expect(await byTestId('track-id').inputValue()).toBe(orderId);
  // The store's inventory reserves the items and confirms the order, live (docs/reservations.md).
  await waitForText(byTestId('track-status'), 'CONFIRMED', LIVE_MS);
  await waitForText(byTestId('track-version'), '2');
  expect(await byTestId('track-items').locator('li .reservation').allTextContents()).toEqual(['reserved', 'reserved']);
  await waitForText(byTestId('track-customer'), 'Grace Hopper');
  await waitForText(byTestId('track-store'), 'Demo Corner');
  const items = await byTestId('track-items').locator('li .name').allTextContents();
  expect(items).toEqual(['Oat milk', 'Green tea']);
  const placed = await mustCall(`query($id: ID!) { order(id: $id) { status customer { id } totalCents } }`, { id: orderId }, admin);
  expect(placed.order).toEqual({ status: 'CONFIRMED', customer: { id: customerId }, totalCents: 718 });
});

it('follows the order live while a shopper advances it (orderUpdated over graphql-ws)', async () => {
  // The first payload of orderUpdated is the current state; only then is the page surely subscribed.
  await waitForText(byTestId('track-live'), 'live', LIVE_MS);
  const shopper = token('shopper-1', 'shopper');
  for (const [status, version] of [['SHOPPER_ASSIGNED', 3], ['PICKING', 4]] as const) {
    await mustCall(`mutation($id: ID!, $s: OrderStatus!) { advanceOrder(id: $id, status: $s) { version } }`, { id: orderId, s: status }, shopper);
    await waitForText(byTestId('track-status'), status, LIVE_MS);
    await waitForText(byTestId('track-version'), String(version), LIVE_MS);
  }
  expect(await byTestId('track-history').locator('li').count()).toBe(4);
  await waitForText(byTestId('track-customer'), 'Grace Hopper');
  await waitForText(byTestId('conn-status'), 'connected');
});

it('updates the inventory board live as the store reports stock (inventoryChanged over graphql-ws)', async () => {
  await waitForText(byTestId('board-live'), 'live', LIVE_MS);
  // The order above holds 2 oat milk and 1 green tea.
  await waitForText(boardCell('prod-oat', 'reserved'), '2', LIVE_MS);
  await waitForText(boardCell('prod-oat', 'available'), '38', LIVE_MS);
  await waitForText(boardCell('prod-tea', 'available'), '2', LIVE_MS);
  const store = token(STORE, 'store');
  await mustCall(`mutation { reportInventory(storeId: "${STORE}", productId: "prod-oat", quantity: 0) { version } }`, {}, store);
  await waitForText(boardCell('prod-oat', 'qty'), '0', LIVE_MS);
  await waitForText(boardCell('prod-oat', 'status'), 'OUT_OF_STOCK', LIVE_MS);
  await waitForText(boardCell('prod-oat', 'version'), '3', LIVE_MS);
  await mustCall(`mutation { reportInventory(storeId: "${STORE}", productId: "prod-tea", quantity: 25) { version } }`, {}, store);
  await waitForText(boardCell('prod-tea', 'status'), 'IN_STOCK', LIVE_MS);
  await waitForText(boardCell('prod-tea', 'qty'), '25', LIVE_MS);
  expect(pageProblems).toEqual([]);
  await screenshot('demo.png');
});

it('reconnects with a new token: another customer may not follow the order, the public board stays live', async () => {
  await byTestId('token-input').fill(token('someone-else', 'customer'));
  await byTestId('token-apply').click();
  await waitForText(byTestId('token-claims'), /^someone-else · customer · until/);
  await waitForText(byTestId('track-error'), /FORBIDDEN|4403/, LIVE_MS);
  // What the previous identity could read is gone from the page.
  expect(await byTestId('track-status').isVisible()).toBe(false);
  await waitForText(byTestId('board-live'), 'live', LIVE_MS);
  await waitForText(boardCell('prod-oat', 'qty'), '0');
});
