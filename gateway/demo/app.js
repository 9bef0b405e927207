// The demo page's client: queries and mutations over HTTP POST /graphql, live updates over
// graphql-ws (the library's own browser client, served by the gateway), the caller's token in
// the Authorization header and in the connection_init payload, as any real client would.
import { createClient } from './vendor/graphql-ws/client.js';

const $ = (id) => document.getElementById(id);

// CONFIRMED (or PARTIALLY_CONFIRMED) is the store inventory's reservation decision.
const LIFECYCLE = ['PLACED', 'CONFIRMED', 'SHOPPER_ASSIGNED', 'PICKING', 'OUT_FOR_DELIVERY', 'DELIVERED'];
const ORDER_FIELDS = `id status version totalCents placedAt updatedAt
  customer { id name } store { id name }
  items { quantity unitPriceCents reserved short notFound product { id name } }
  statusHistory { status at }`;
const LEVEL_FIELDS = 'storeId productId quantity reserved available status likelihoodInStock version updatedAt product { id name }';

// ---------------------------------------------------------------------------------------------
// Small helpers. Data from the server only ever reaches the page as text (never as HTML).

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('data-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

const money = (cents) => `$${(cents / 100).toFixed(2)}`;
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');

/** One line for anything that can fail: GraphQL errors, Errors, or the CloseEvent graphql-ws rejects with. */
function describeError(e) {
  if (Array.isArray(e)) return e.map((x) => (x.extensions?.code ? `${x.extensions.code}: ${x.message}` : x.message)).join('; ');
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'code' in e) return `live connection closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`;
  // The browser says no more than this about a WebSocket it could not open (its console has the HTTP status).
  if (e instanceof Event) return `could not open the live connection to ${location.host}/graphql (graphql-ws)`;
  return String(e);
}

/** Restarts a CSS animation, so every live change to a row or badge is visible. */
function flash(node) {
  node.classList.remove('flash');
  void node.offsetWidth;
  node.classList.add('flash');
}

function setBadge(id, state) {
  const badge = $(id);
  badge.textContent = state;
  badge.dataset.state = state;
}

// ---------------------------------------------------------------------------------------------
// The token: from the URL fragment (never sent to a server or written to its logs) or the input.

let token = '';

function claimsOf(jwt) {
  try {
    const b64 = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

function showClaims() {
  const out = $('token-claims');
  out.className = 'claims';
  if (!token) return void (out.textContent = 'anonymous');
  const claims = claimsOf(token);
  if (!claims) {
    out.textContent = 'not a JWT';
    return void out.classList.add('bad');
  }
  const roles = [...(Array.isArray(claims.roles) ? claims.roles : []), ...(claims.role ? [claims.role] : [])];
  const expired = typeof claims.exp === 'number' && claims.exp * 1000 < Date.now();
  // Only for display: the gateway verifies the signature; the page cannot and does not.
  out.textContent = `${claims.sub ?? '?'} · ${roles.join(', ') || 'no roles'} · ${expired ? 'EXPIRED' : `until ${new Date(claims.exp * 1000).toLocaleTimeString()}`}`;
  if (expired) out.classList.add('bad');
}

function setToken(next) {
  next = next.trim().replace(/^Bearer\s+/i, '');
  if (next === token) return;
  token = next;
  $('token-input').value = token;
  showClaims();
  void refreshRecent();
  // A graphql-ws connection is authenticated once, at connection_init: a new identity needs a
  // new connection, and the live views must subscribe again on it.
  resetLive();
}

// ---------------------------------------------------------------------------------------------
// Transport.

async function graphqlHttp(query, variables = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const started = performance.now();
  const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  let body;
  try {
    body = await res.json();
  } catch {
    throw new Error(`HTTP ${res.status}: the response is not JSON`);
  }
  return { status: res.status, ms: Math.round(performance.now() - started), body };
}

let client = null;

function setConn(text, state = text) {
  $('conn-status').textContent = text;
  $('conn-dot').dataset.state = state;
}

function wsClient() {
  client ??= createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    // Read at every (re)connect, so a retry after a token change uses the new token.
    connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
    lazy: true,
    retryAttempts: 5,
    // A browser reports a connection it could not open as an error event, which graphql-ws
    // would not retry; the gateway may only be restarting. Fatal close codes still end it.
    shouldRetry: () => true,
    on: {
      connecting: () => setConn('connecting'),
      connected: () => setConn('connected'),
      closed: (event) => setConn(event?.code === 1000 ? 'idle' : `closed (${event?.code ?? '?'}${event?.reason ? `: ${event.reason}` : ''})`, 'closed'),
      error: () => setConn('error', 'closed'),
    },
  });
  return client;
}

/** Live views by name; each restarts itself on a new connection. */
const live = new Map();

function subscribe(name, request, sink, restart) {
  unsubscribe(name);
  const dispose = wsClient().subscribe(request, sink);
  live.set(name, { dispose, restart });
}

function unsubscribe(name) {
  live.get(name)?.dispose();
  live.delete(name);
}

function resetLive() {
  const restarts = [...live.values()].map((l) => l.restart);
  for (const l of live.values()) l.dispose();
  live.clear();
  client?.dispose();
  client = null;
  for (const restart of restarts) restart?.();
}

// ---------------------------------------------------------------------------------------------
// Inventory board: the store's levels by HTTP, then inventoryChanged keeps them current. Both
// may deliver the same level; the higher version wins, so their order does not matter.

const board = { gen: 0, storeId: '', productIds: null, levels: new Map() };

function watchBoard(storeId, productIds) {
  const gen = ++board.gen;
  Object.assign(board, { storeId, productIds, levels: new Map() });
  $('board-rows').replaceChildren();
  $('board-error').textContent = '';
  $('board-title').textContent = `loading ${storeId}…`;
  if (!$('order-store').value) $('order-store').value = storeId;
  const current = () => gen === board.gen;

  setBadge('board-live', 'connecting');
  subscribe(
    'board',
    {
      query: `subscription Board($storeId: ID!, $productIds: [ID!]) { inventoryChanged(storeId: $storeId, productIds: $productIds) { ${LEVEL_FIELDS} } }`,
      variables: { storeId, productIds },
    },
    {
      next: (result) => {
        if (!current()) return;
        if (result.errors) $('board-error').textContent = describeError(result.errors);
        if (result.data?.inventoryChanged) {
          setBadge('board-live', 'live');
          applyLevel(result.data.inventoryChanged);
        }
      },
      error: (e) => {
        if (!current()) return;
        setBadge('board-live', 'error');
        $('board-error').textContent = describeError(e);
      },
      complete: () => current() && setBadge('board-live', 'ended'),
    },
    () => watchBoard(storeId, productIds),
  );

  graphqlHttp(
    `query Store($id: ID!) { store(id: $id) { id name inventory(first: 100) { edges { node { ${LEVEL_FIELDS} } } } } }`,
    { id: storeId },
  ).then(
    ({ body }) => {
      if (!current()) return;
      if (body.errors) $('board-error').textContent = describeError(body.errors);
      const store = body.data?.store;
      $('board-title').textContent = store ? `${store.name} (${store.id})` : `no store ${storeId} (yet)`;
      for (const edge of store?.inventory.edges ?? []) if (!productIds || productIds.includes(edge.node.productId)) applyLevel(edge.node);
    },
    (e) => current() && ($('board-error').textContent = describeError(e)),
  );
}

function applyLevel(level) {
  const known = board.levels.get(level.productId);
  if (known && known.version > level.version) return;
  board.levels.set(level.productId, level);
  let row = $('board-rows').querySelector(`tr[data-product-id="${CSS.escape(level.productId)}"]`);
  if (!row) {
    row = el('tr', { 'data-product-id': level.productId },
      el('td', { class: 'name' }), el('td', { class: 'num qty' }), el('td', { class: 'num reserved' }), el('td', { class: 'num available' }),
      el('td', { class: 'status' }), el('td', { class: 'num likely' }), el('td', { class: 'num version' }), el('td', { class: 'updated' }));
    insertSorted(row, level.product?.name ?? level.productId);
    const option = el('option', { value: level.productId });
    option.textContent = level.product?.name ?? level.productId;
    $('known-products').append(option);
  }
  const [name, qty, reserved, available, status, likely, version, updated] = row.children;
  name.textContent = level.product?.name ?? level.productId;
  name.title = level.productId;
  qty.textContent = String(level.quantity);
  // Reservations and releases move these live: orders hold units until delivered or canceled.
  reserved.textContent = String(level.reserved);
  available.textContent = String(level.available);
  likely.textContent = `${Math.round(level.likelihoodInStock * 100)}%`;
  likely.title = 'how likely it is on the shelf now (docs/reservations.md)';
  status.textContent = level.status;
  status.className = `status stock-${level.status}`;
  version.textContent = String(level.version);
  updated.textContent = clock(level.updatedAt);
  if (known && known.version !== level.version) flash(row);
}

function insertSorted(row, name) {
  row.dataset.sort = name.toLowerCase();
  const before = [...$('board-rows').children].find((r) => r.dataset.sort > row.dataset.sort);
  $('board-rows').insertBefore(row, before ?? null);
}

// ---------------------------------------------------------------------------------------------
// Order tracker: orderUpdated sends the order's current state, then every change.

const tracker = { gen: 0, id: '', order: null, updates: 0 };

function track(id, known = null) {
  const gen = ++tracker.gen;
  Object.assign(tracker, { id, order: null, updates: 0 });
  $('track-id').value = id;
  $('track-error').textContent = '';
  $('track-updates').textContent = '0';
  $('track-card').hidden = true;
  if (known) applyOrder(known);
  const current = () => gen === tracker.gen;

  setBadge('track-live', 'connecting');
  subscribe(
    'tracker',
    { query: `subscription Track($id: ID!) { orderUpdated(id: $id) { ${ORDER_FIELDS} } }`, variables: { id } },
    {
      next: (result) => {
        if (!current()) return;
        if (result.errors) $('track-error').textContent = describeError(result.errors);
        if (result.data?.orderUpdated) {
          setBadge('track-live', 'live');
          $('track-updates').textContent = String(++tracker.updates);
          applyOrder(result.data.orderUpdated);
        }
      },
      error: (e) => {
        if (!current()) return;
        setBadge('track-live', 'error');
        $('track-error').textContent = describeError(e);
      },
      complete: () => current() && setBadge('track-live', 'ended'),
    },
    // Not with the order shown so far: it was read with the previous token, and the new
    // identity may not be allowed to see it.
    () => track(id),
  );
}

/** What the store's inventory holds for an item: nothing yet, all of it, or how many are short. */
function reservationText(item) {
  if (item.notFound) return 'not found';
  if (item.reserved == null) return 'awaiting stock';
  return item.short > 0 ? `${item.short} short` : 'reserved';
}
function reservationClass(item) {
  if (item.notFound || item.short > 0) return 'short';
  return item.reserved == null ? 'pending' : 'held';
}

function applyOrder(order) {
  if (tracker.order && tracker.order.version > order.version) return;
  const changed = tracker.order && tracker.order.version !== order.version;
  tracker.order = order;
  $('track-card').hidden = false;
  const status = $('track-status');
  status.textContent = order.status;
  status.className = `status order-${order.status}`;
  if (changed) flash(status);
  $('track-version').textContent = String(order.version);
  $('track-customer').textContent = order.customer?.name ?? '';
  $('track-store').textContent = order.store?.name ?? order.store?.id ?? '';
  $('track-total').textContent = money(order.totalCents);
  $('track-placed').textContent = clock(order.placedAt);

  const reached = LIFECYCLE.indexOf(order.status === 'PARTIALLY_CONFIRMED' ? 'CONFIRMED' : order.status);
  $('track-steps').replaceChildren(
    ...LIFECYCLE.map((step, i) => el('li', { class: i < reached ? 'done' : i === reached ? 'now' : order.status === 'CANCELED' ? 'skipped' : '' }, step.replace(/_/g, ' ').toLowerCase())),
  );
  $('track-items').replaceChildren(
    ...order.items.map((item) =>
      // product is null (with an error) while the catalog cannot answer: the line still shows.
      el('li', { 'data-product-id': item.product?.id ?? '' }, el('span', { class: 'name' }, item.product?.name ?? item.product?.id ?? 'product unavailable'), ` × ${item.quantity} `, el('span', { class: 'muted' }, money(item.unitPriceCents)), ' ',
        el('span', { class: `reservation ${reservationClass(item)}` }, reservationText(item))),
    ),
  );
  $('track-history').replaceChildren(...order.statusHistory.map((h) => el('li', {}, `${clock(h.at)} ${h.status}`)));
}

// ---------------------------------------------------------------------------------------------
// Place an order: placeOrder as the token's customer; the answer starts the tracker.

let lineCount = 0;

function addOrderLine(productId = '') {
  const n = lineCount++;
  const line = el('div', { class: 'row line' },
    el('input', { id: `order-product-${n}`, 'data-testid': `order-product-${n}`, placeholder: 'product id', required: true, value: productId, className: 'product' }),
    el('input', { id: `order-qty-${n}`, 'data-testid': `order-qty-${n}`, type: 'number', min: '1', max: '1000', value: '1', required: true, className: 'qty' }),
  );
  line.querySelector('.product').setAttribute('list', 'known-products');
  const remove = el('button', { type: 'button', title: 'remove this item' }, '×');
  remove.addEventListener('click', () => $('order-lines').childElementCount > 1 && line.remove());
  line.append(remove);
  $('order-lines').append(line);
}

async function placeOrder(event) {
  event.preventDefault();
  $('order-result').textContent = '';
  $('order-error').textContent = '';
  const items = [...$('order-lines').querySelectorAll('.line')].map((line) => ({
    productId: line.querySelector('.product').value.trim(),
    quantity: Number(line.querySelector('.qty').value),
  }));
  const button = $('order-submit');
  button.disabled = true;
  try {
    const { body } = await graphqlHttp(`mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER_FIELDS} } }`, {
      input: { storeId: $('order-store').value.trim(), items },
    });
    const order = body.data?.placeOrder;
    if (!order) throw new Error(describeError(body.errors ?? 'no order in the answer'));
    $('order-result').textContent = `Placed order ${order.id} · ${money(order.totalCents)}`;
    $('order-result').dataset.orderId = order.id;
    track(order.id, order);
  } catch (e) {
    $('order-error').textContent = describeError(e);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Browsing: what a person does here goes to POST /events as an app would send it (app_open,
// search, product_view, add_to_cart, remove_from_cart), batched: views go at once, the rest with
// the next flush (a second later). The token's customer gets them (the gateway takes the id from
// the token); without one they belong to this device, and join the customer who signs in here.
// After each batch the page reads me { recentlyViewed } until the fold shows the new view.

const APP = { app: 'demo-web', appVersion: '1.0.0' };
const DEVICE_KEY = 'streamgraph-demo-device';
const deviceId = (() => {
  try {
    const known = localStorage.getItem(DEVICE_KEY);
    if (known) return known;
    const made = `web-${crypto.randomUUID()}`;
    localStorage.setItem(DEVICE_KEY, made);
    return made;
  } catch {
    return `web-${crypto.randomUUID()}`;
  }
})();
const outbox = { queue: [], timer: null, sent: 0, lastViewed: null, gen: 0 };

function track360(type, fields = {}, now = false) {
  outbox.queue.push({ type, deviceId, clientTimestamp: new Date().toISOString(), ...APP, ...fields });
  if (type === 'product_view') outbox.lastViewed = fields.productId;
  if (now) return void flushEvents();
  outbox.timer ??= setTimeout(flushEvents, 1000);
}

async function flushEvents() {
  clearTimeout(outbox.timer);
  outbox.timer = null;
  if (outbox.queue.length === 0) return;
  const batch = outbox.queue.splice(0, 50);
  const headers = { 'content-type': 'application/x-ndjson' };
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const res = await fetch('/events', { method: 'POST', headers, body: batch.map((e) => JSON.stringify(e)).join('\n'), keepalive: true });
    const body = await res.json();
    if (res.status !== 200) throw new Error(describeError(body.errors ?? `HTTP ${res.status}`));
    outbox.sent += body.accepted;
    $('events-sent').textContent = `${outbox.sent} events`;
    flash($('events-sent'));
    $('browse-error').textContent = body.rejected.length ? `rejected: ${body.rejected.map((r) => r.reason).join('; ')}` : '';
    void refreshRecent(outbox.lastViewed);
  } catch (e) {
    $('browse-error').textContent = describeError(e);
  }
  if (outbox.queue.length) void flushEvents();
}

/** Reads me { recentlyViewed } until it starts with `expected` (the fold is a moment behind), at most ~5 s. */
async function refreshRecent(expected = null) {
  const gen = ++outbox.gen;
  if (!token) {
    $('recent-seen').textContent = '(anonymous: kept for this device, joins your account when you sign in)';
    return;
  }
  for (let attempt = 0; attempt < 20 && gen === outbox.gen; attempt++) {
    try {
      const { body } = await graphqlHttp('query Recent { me { lastSeenAt recentlyViewed(first: 5) { id name } cartItems { quantity product { id name } } } }');
      const me = body.data?.me;
      if (gen !== outbox.gen) return;
      if (!me) {
        $('recent-seen').textContent = body.errors ? describeError(body.errors) : '(the token is not a registered customer)';
        return;
      }
      showRecent(me);
      if (!expected || me.recentlyViewed?.[0]?.id === expected) return;
    } catch (e) {
      $('recent-seen').textContent = describeError(e);
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function showRecent(me) {
  $('recent-seen').textContent = me.lastSeenAt ? `last seen ${clock(me.lastSeenAt)}` : '';
  const items = (me.recentlyViewed ?? []).filter(Boolean);
  const list = $('recent-viewed');
  const before = list.textContent;
  list.replaceChildren(...items.map((p) => el('li', { 'data-product-id': p.id }, p.name ?? p.id)));
  if (list.textContent !== before) flash(list);
  const cart = (me.cartItems ?? []).map((l) => `${l.product?.name ?? '?'} × ${l.quantity}`);
  $('recent-cart').textContent = cart.length ? `cart: ${cart.join(', ')}` : '';
}

async function browse(search = '') {
  $('browse-error').textContent = '';
  if (search) track360('search', { query: search });
  try {
    const { body } = await graphqlHttp('query Browse($search: String) { products(first: 8, search: $search) { edges { node { id name priceCents } } } }', { search: search || null });
    if (body.errors) $('browse-error').textContent = describeError(body.errors);
    const products = body.data?.products.edges.map((e) => e.node) ?? [];
    $('browse-products').replaceChildren(...products.map(productRow));
  } catch (e) {
    $('browse-error').textContent = describeError(e);
  }
}

function productRow(p) {
  const view = el('button', { type: 'button', className: 'link', title: 'view this product' }, p.name);
  view.dataset.testid = `view-${p.id}`;
  view.addEventListener('click', () => track360('product_view', { productId: p.id }, true));
  const add = el('button', { type: 'button', title: 'add to cart' }, '+');
  add.dataset.testid = `add-${p.id}`;
  add.addEventListener('click', () => track360('add_to_cart', { productId: p.id, quantity: 1 }));
  const remove = el('button', { type: 'button', title: 'remove from cart' }, '−');
  remove.addEventListener('click', () => track360('remove_from_cart', { productId: p.id, quantity: 1 }));
  return el('li', { 'data-product-id': p.id }, view, ' ', el('span', { class: 'muted' }, money(p.priceCents)), ' ', add, remove);
}

// ---------------------------------------------------------------------------------------------
// Query box: any operation; a subscription streams over graphql-ws, anything else goes by HTTP.

const queryBox = { gen: 0 };

async function runQuery(event) {
  event.preventDefault();
  const gen = ++queryBox.gen;
  stopQuery();
  const out = $('query-output');
  const status = $('query-status');
  out.textContent = '';
  let variables = {};
  try {
    const text = $('query-vars').value.trim();
    if (text) variables = JSON.parse(text);
  } catch (e) {
    status.textContent = `variables are not JSON: ${e.message}`;
    return;
  }
  const query = $('query-text').value;
  // Comments aside, the first word says what kind of operation this is.
  if (/^subscription\b/.test(query.replace(/#[^\n]*/g, '').trim())) {
    const received = [];
    status.textContent = 'subscribing…';
    $('query-stop').hidden = false;
    subscribe(
      'query',
      { query, variables },
      {
        next: (result) => {
          if (gen !== queryBox.gen) return;
          received.unshift(result);
          received.length = Math.min(received.length, 20);
          status.textContent = `live · ${received.length === 20 ? 'last 20' : received.length} received`;
          out.textContent = JSON.stringify(received, null, 2);
        },
        error: (e) => gen === queryBox.gen && (status.textContent = describeError(e)),
        complete: () => gen === queryBox.gen && (status.textContent += ' · completed'),
      },
      null,
    );
    return;
  }
  status.textContent = 'running…';
  try {
    const { status: code, ms, body } = await graphqlHttp(query, variables);
    if (gen !== queryBox.gen) return;
    status.textContent = `HTTP ${code} · ${ms} ms`;
    out.textContent = JSON.stringify(body, null, 2);
  } catch (e) {
    if (gen === queryBox.gen) status.textContent = describeError(e);
  }
}

function stopQuery() {
  unsubscribe('query');
  $('query-stop').hidden = true;
}

// ---------------------------------------------------------------------------------------------
// Wiring.

function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has('token')) setToken(params.get('token'));
  return params;
}

function start() {
  addOrderLine();
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setToken($('token-input').value);
  });
  $('board-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const ids = $('board-products').value.split(',').map((s) => s.trim()).filter(Boolean);
    watchBoard($('board-store').value.trim(), ids.length ? ids : null);
  });
  $('track-form').addEventListener('submit', (e) => {
    e.preventDefault();
    track($('track-id').value.trim());
  });
  $('order-add-line').addEventListener('click', () => addOrderLine());
  $('order-form').addEventListener('submit', placeOrder);
  $('query-form').addEventListener('submit', runQuery);
  $('browse-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void browse($('browse-search').value.trim());
  });
  $('query-stop').addEventListener('click', () => {
    queryBox.gen++;
    stopQuery();
    $('query-status').textContent = 'stopped';
  });
  window.addEventListener('hashchange', readFragment);

  const params = readFragment();
  showClaims();
  const store = params.get('store');
  if (store) {
    $('board-store').value = store;
    watchBoard(store, null);
  }
  if (params.get('order')) track(params.get('order'));
  track360('app_open');
  void browse();
  void refreshRecent();
  // What is still queued goes out when the page is hidden or left (keepalive requests survive it).
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && void flushEvents());
  document.body.dataset.ready = 'true';
}

start();
