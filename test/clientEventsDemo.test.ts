// The demo page sends real client events as a person browses, in a real browser (system
// Chromium via playwright-core) against the customers and catalog subgraphs and a gateway with
// POST /events: browsing anonymously, then with a customer's token, and "Recently viewed" on the
// page updating from `me { recentlyViewed }`, the anonymous view joined at sign-in.
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { startCatalogSubgraph } from '../subgraphs/catalog';
import { startCustomersSubgraph } from '../subgraphs/customers';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { launchChromium } from './browser/chromium';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { testGatewayConfig } from './support/gatewayConfig';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';

const JWT_SECRET = 'client-events-demo-jwt-secret-0123456789';
const OUTPUT = path.resolve(__dirname, '..', 'test-output');
const PAGE_MS = 20_000;
const PRODUCTS = [
  { id: 'demo-oat', name: 'Oat milk' },
  { id: 'demo-rye', name: 'Rye bread' },
  { id: 'demo-tea', name: 'Green tea' },
];
const token = (sub: string, role: 'customer' | 'admin') => signDevToken({ sub, roles: [role], secret: JWT_SECRET });

let redis: Redis;
let subgraphs: SubgraphHandle[] = [];
let gateway: GatewayHandle;
let browser: Browser;
let page: Page;
let customerId: string;
const pageProblems: string[] = [];

async function mustCall(query: string, variables: Record<string, unknown> = {}, bearer?: string) {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const recent = () => page.getByTestId('recent-viewed').locator('li').allTextContents();

beforeAll(async () => {
  const namespace = await createNamespace('client-events-demo');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const opts = { namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 };
  subgraphs = await Promise.all([startCustomersSubgraph(opts), startCatalogSubgraph(opts)]);
  gateway = await startGateway(
    testGatewayConfig(
      { namespace, redis, jwtSecret: JWT_SECRET, label: 'client-events-demo' },
      { events: { kafka: kafkaConfigFromEnv(), settings: { namespace, maxBatch: 50, ratePerMinute: 600, addressRatePerMinute: 10_000, deviceClaims: 'uuid' } } },
    ),
  );
  await waitFor(() => {
    const s = gateway.supergraphState();
    return 'subgraphs' in s && ['catalog', 'customers'].every((n) => s.subgraphs.includes(n));
  }, { what: 'the gateway to compose customers and catalog' });
  customerId = (await mustCall(`mutation { registerCustomer(input: { name: "Grace", email: "grace@example.com" }) { id } }`)).registerCustomer.id;
  for (const p of PRODUCTS)
    await mustCall(`mutation($input: ProductInput!) { upsertProduct(input: $input) { id } }`, { input: { ...p, category: 'demo', priceCents: 250 } }, token('admin-1', 'admin'));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  page.on('pageerror', (e) => pageProblems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageProblems.push(`CSP: ${m.text()}`);
  });
});

afterAll(async () => {
  if (page) {
    fs.mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'demo-recently-viewed.png'), fullPage: true }).catch(() => undefined);
  }
  await browser?.close();
  await gateway?.close();
  await Promise.all(subgraphs.map((s) => s.close()));
  redis?.disconnect();
});

it('sends events as a person browses and shows "recently viewed" updating, the anonymous view joined at sign-in', async () => {
  // Anonymous: the page's device browses and views a product.
  await page.goto(`http://127.0.0.1:${gateway.port}/demo`);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: PAGE_MS });
  await page.getByTestId('browse-search').fill('oat');
  await page.getByTestId('browse-go').click();
  await page.getByTestId('view-demo-oat').click({ timeout: PAGE_MS });
  // app_open, the search and the view: all accepted.
  await page.getByTestId('events-sent').filter({ hasText: /^3 events$/ }).waitFor({ timeout: PAGE_MS });

  // Signing in on the same device: the anonymous view joins the customer, and new views follow.
  await page.getByTestId('token-input').fill(token(customerId, 'customer'));
  await page.getByTestId('token-apply').click();
  await page.getByTestId('browse-search').fill('');
  await page.getByTestId('browse-go').click();
  await page.getByTestId('view-demo-tea').click({ timeout: PAGE_MS });
  await waitFor(async () => JSON.stringify(await recent()) === JSON.stringify(['Green tea', 'Oat milk']) || null, {
    what: 'recently viewed to show the signed-in view and the anonymous one',
    timeoutMs: PAGE_MS,
  });
  await page.getByTestId('view-demo-rye').click();
  await waitFor(async () => JSON.stringify(await recent()) === JSON.stringify(['Rye bread', 'Green tea', 'Oat milk']) || null, {
    what: 'recently viewed to update with the next view',
    timeoutMs: PAGE_MS,
  });
  expect(await page.getByTestId('recent-seen').textContent()).toMatch(/^last seen /);
  expect(await page.getByTestId('browse-error').textContent()).toBe('');
  expect(pageProblems).toEqual([]);
});
