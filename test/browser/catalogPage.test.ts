// The catalog page in a real browser (system Chromium via playwright-core) behind a real gateway
// and mesh: it shows every built-in data product with its owner, levels and lineage; when a
// projection stops and its topic moves on, the product's lag level turns to breached on the page
// by itself (the page polls), and turns back once the projection runs again. Screenshots go to
// test-output/ (catalog.png, catalog-breached.png); docs/images/catalog.png in the README is one.
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { startGateway, type GatewayHandle } from '../../gateway/server';
import { signDevToken } from '../../gateway/token';
import { createKafka, kafkaConfigFromEnv } from '../../platform/kafkaConfig';
import { createEvent, CUSTOMERS_TOPIC } from '../../schema/events';
import { declarationOf } from '../../scripts/declarations';
import { startCatalogSubgraph } from '../../subgraphs/catalog';
import { startCustomersSubgraph } from '../../subgraphs/customers';
import { startMeshSubgraph, type MeshHandle } from '../../subgraphs/mesh';
import { startOrdersSubgraph } from '../../subgraphs/orders';
import { createEventProducer, type EventProducer } from '../../subgraphs/runtime/producer';
import type { SubgraphHandle } from '../../subgraphs/runtime/startSubgraph';
import { testGatewayConfig } from '../support/gatewayConfig';
import { TEST_IDENTITY_SECRET } from '../support/graphqlClient';
import { createNamespace } from '../support/namespace';
import { launchChromium } from './chromium';

const JWT_SECRET = 'catalog-page-test-jwt-secret-0123456789';
const OUTPUT = path.resolve(__dirname, '..', '..', 'test-output');
/** The page polls every 2 s and the mesh measures every 300 ms here. */
const PAGE_MS = 20_000;
const BUILT_IN = ['catalog', 'customers', 'orders'];

let namespace: string;
let redis: Redis;
let customers: SubgraphHandle;
let orders: SubgraphHandle;
let catalog: SubgraphHandle;
let mesh: MeshHandle;
let gateway: GatewayHandle;
let producer: EventProducer;
let browser: Browser;
let page: Page;
const pageProblems: string[] = [];
const opts = () => ({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 });
const card = (name: string) => page.locator(`[data-testid="product"][data-product="${name}"]`);

/** Waits for `locator`; fails saying what the page showed instead. */
async function waitOn(locator: ReturnType<Page['locator']>, timeout = PAGE_MS): Promise<void> {
  try {
    await locator.waitFor({ timeout });
  } catch {
    const text = async (id: string) => page.getByTestId(id).textContent({ timeout: 1_000 }).catch(() => '?');
    throw new Error(`waited ${timeout} ms for ${locator}; the page says status=${JSON.stringify(await text('refresh-status'))} error=${JSON.stringify(await text('error'))}; problems: ${JSON.stringify(pageProblems)}`);
  }
}

async function screenshot(name: string): Promise<void> {
  fs.mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: path.join(OUTPUT, name), fullPage: true });
}

beforeAll(async () => {
  namespace = await createNamespace('catalog-page');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  [customers, catalog, orders] = await Promise.all([startCustomersSubgraph(opts()), startCatalogSubgraph(opts()), startOrdersSubgraph(opts())]);
  mesh = await startMeshSubgraph({ ...opts(), sampleMs: 300 });
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'catalog-page-test' }));
  producer = await createEventProducer(createKafka(kafkaConfigFromEnv()));
  // A little traffic, so the figures have something to show.
  await producer.publishMany(
    `${namespace}${CUSTOMERS_TOPIC.name}`,
    Array.from({ length: 20 }, (_, i) => createEvent(CUSTOMERS_TOPIC, 'CustomerRegistered', { customerId: `page-${i}`, name: `Customer ${i}`, email: `c${i}@example.com`, tier: 'STANDARD' })),
  );
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => pageProblems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageProblems.push(`CSP: ${m.text()}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await producer?.close();
  await gateway?.close();
  await mesh?.close();
  await Promise.all([customers?.close(), catalog?.close(), orders?.close()]);
  redis?.disconnect();
});

it('serves the page with a CSP that allows this origin only', async () => {
  for (const file of ['/catalog', '/catalog/app.js', '/catalog/style.css']) {
    const res = await fetch(`http://127.0.0.1:${gateway.port}${file}`);
    await res.text();
    expect([file, res.status]).toEqual([file, 200]);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  }
  expect((await fetch(`http://127.0.0.1:${gateway.port}/catalog/nothing.js`)).status).toBe(404);
  expect((await fetch(`http://127.0.0.1:${gateway.port}/catalog`, { method: 'POST' })).status).toBe(405);
});

it('refuses a customer token on the page, saying FORBIDDEN', async () => {
  const customer = signDevToken({ sub: 'c-1', roles: ['customer'], secret: JWT_SECRET });
  await page.goto(`http://127.0.0.1:${gateway.port}/catalog#token=${customer}`);
  await waitOn(page.getByTestId('error').filter({ hasText: /FORBIDDEN/ }));
  expect(await page.getByTestId('product').count()).toBe(0);
});

it('shows every built-in product with its owner, levels and lineage', async () => {
  const analyst = signDevToken({ sub: 'analyst-1', roles: ['analyst'], secret: JWT_SECRET });
  await page.goto(`http://127.0.0.1:${gateway.port}/catalog#token=${analyst}`);
  for (const name of BUILT_IN) {
    await waitOn(card(name).locator('[data-testid="lineage"]'));
    const team = declarationOf(name).dataProducts![0].team;
    expect(await card(name).getByTestId('owner').textContent()).toContain(team);
    for (const view of Object.values(declarationOf(name).views)) expect(await card(name).locator('[data-testid="lineage"]').textContent()).toContain(view.name.slice(0, 29));
  }
  await waitOn(card('customers').locator('[data-testid="level-MAX_LAG"][data-state="MET"]'));
  // The token left the address bar.
  expect(page.url()).not.toContain('token=');
  await screenshot('catalog.png');
  expect(pageProblems).toEqual([]);
});

it('turns the lag level to breached when a projection stops, and back after its restart', async () => {
  const { records } = declarationOf('customers').dataProducts![0].serviceLevels.maxLag;
  await customers.close();
  // One customer's changes land on one partition, whose lag is what the level bounds.
  await producer.publishMany(`${namespace}${CUSTOMERS_TOPIC.name}`, [
    createEvent(CUSTOMERS_TOPIC, 'CustomerRegistered', { customerId: 'page-lagging', name: 'Lag', email: 'lag@example.com', tier: 'PLUS' }),
    ...Array.from({ length: records + 50 }, (_, i) => createEvent(CUSTOMERS_TOPIC, 'CustomerUpdated', { customerId: 'page-lagging', name: `Lag ${i}` })),
  ]);
  await waitOn(card('customers').locator('[data-testid="level-MAX_LAG"][data-state="BREACHED"]'));
  expect(await card('customers').getAttribute('data-breached')).toBe('true');
  await screenshot('catalog-breached.png');
  customers = await startCustomersSubgraph(opts());
  await waitOn(card('customers').locator('[data-testid="level-MAX_LAG"][data-state="MET"]'), 60_000);
  expect(pageProblems).toEqual([]);
});
