// The catalog page's client: polls this gateway's /graphql every few seconds with the caller's
// token (Authorization header) and draws each data product: owner, service levels, figures and
// its lineage as a small SVG diagram. Data from the server reaches the page only as text.
const $ = (id) => document.getElementById(id);
const REFRESH_MS = 2000;
const SVG = 'http://www.w3.org/2000/svg';

const LIST = `{ dataProducts(first: 30) { name team contact description
  serviceLevels { level objective measured state since }
  live { measuredAt eventsPerSecond lastAppliedEventAt validShare problems deadLetters { total lastHour perHourLastHour perHourLastDay } } } }`;
const DETAIL = `query($name: String!) { dataProduct(name: $name) { name
  topics { name owner source }
  views { name topic topicOwner product fields }
  live { partitions { view partition lag lagAgeSeconds } consumerGroups { groupId lag } }
  lineage { downstream { topic view viewProduct viewSubgraph fields } } } }`;

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

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---------------------------------------------------------------------------------------------
// The token: from the URL fragment (never sent to a server or written to its logs) or the input.
let token = '';
function takeTokenFromHash() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  token = decodeURIComponent(m[1]);
  $('token-input').value = token;
  // Out of the address bar, so it is not shared by a copied link.
  history.replaceState(null, '', location.pathname);
}

async function graphql(query, variables = {}) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json().catch(() => ({ errors: [{ message: `HTTP ${res.status}` }] }));
  if (body.errors?.length) throw new Error(body.errors.map((e) => (e.extensions?.code ? `${e.extensions.code}: ${e.message}` : e.message)).join('; '));
  return body.data;
}

// ---------------------------------------------------------------------------------------------
// Drawing.
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '–');
const num = (x, digits = 1) => (x === null || x === undefined ? '–' : Number(x).toFixed(digits));
const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(x >= 0.9995 ? 0 : 2)}%`);
const WORDS = { MAX_LAG: 'lag', MAX_EVENT_AGE: 'freshness', MIN_VALID_SHARE: 'valid share' };

function levelBadge(l) {
  const state = l.state.toLowerCase();
  return el(
    'span',
    { class: 'level', 'data-testid': `level-${l.level}`, 'data-state': l.state, title: `${l.objective}; measured: ${l.measured ?? '–'}; ${state} since ${clock(l.since)}` },
    `${WORDS[l.level] ?? l.level}: ${state} since ${clock(l.since)}`,
  );
}

function figure(label, value, testid) {
  return [el('dt', {}, label), el('dd', { 'data-testid': testid }, value)];
}

/** topic -> view -> fields; views of other products built from this one's topics are dashed. */
function lineageDiagram(p, detail) {
  const own = detail.views;
  const downstream = detail.lineage.downstream.filter((e) => e.viewProduct !== p.name);
  const topics = [...new Set([...detail.topics.map((t) => t.name), ...own.map((v) => v.topic)])];
  const views = [...own.map((v) => ({ name: v.name, topic: v.topic, foreign: false })), ...downstream.map((e) => ({ name: e.view, topic: e.topic, foreign: true, product: e.viewProduct }))];
  const MAX_FIELDS = 14;
  const allFields = [...new Set(own.flatMap((v) => v.fields))];
  const fields = allFields.slice(0, MAX_FIELDS);
  const row = 22;
  const rows = Math.max(topics.length, views.length, fields.length + (allFields.length > MAX_FIELDS ? 1 : 0), 1);
  const width = 720;
  const height = rows * row + 26;
  const cols = [{ x: 4, w: 180 }, { x: 250, w: 210 }, { x: 530, w: 186 }];
  const root = svg('svg', { class: 'lineage', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `lineage of ${p.name}`, 'data-testid': 'lineage' });
  ['topics', 'views', 'fields'].forEach((c, i) => root.append(svg('text', { x: cols[i].x, y: 12, class: 'caption' }, c)));
  const y = (i) => 20 + i * row;
  const box = (col, i, label, cls, title) => {
    const g = svg('g');
    g.append(svg('rect', { x: cols[col].x, y: y(i), width: cols[col].w, height: row - 6, rx: 4, class: `box ${cls}` }));
    const t = svg('text', { x: cols[col].x + 6, y: y(i) + 12 }, label.length > 30 ? `${label.slice(0, 29)}…` : label);
    g.append(t);
    if (title) g.append(svg('title', {}, title));
    root.append(g);
  };
  const edge = (c1, i1, c2, i2) =>
    root.append(svg('path', { class: 'edge', d: `M${cols[c1].x + cols[c1].w} ${y(i1) + 8} C ${cols[c1].x + cols[c1].w + 30} ${y(i1) + 8}, ${cols[c2].x - 30} ${y(i2) + 8}, ${cols[c2].x} ${y(i2) + 8}` }));
  views.forEach((v, i) => {
    const t = topics.indexOf(v.topic);
    if (t >= 0) edge(0, t, 1, i);
    if (!v.foreign) own.find((o) => o.name === v.name)?.fields.forEach((f) => fields.includes(f) && edge(1, i, 2, fields.indexOf(f)));
  });
  topics.forEach((t, i) => {
    const info = detail.topics.find((x) => x.name === t) ?? own.find((v) => v.topic === t);
    const owner = info?.owner ?? info?.topicOwner ?? '?';
    box(0, i, t, `topic${detail.topics.some((x) => x.name === t) ? '' : ' foreign'}`, `topic ${t}, owned by ${owner}`);
  });
  views.forEach((v, i) => box(1, i, v.foreign ? `${v.name} (${v.product})` : v.name, `view${v.foreign ? ' foreign' : ''}`, v.foreign ? `built by ${v.product} from ${v.topic}` : `view ${v.name} from ${v.topic}`));
  fields.forEach((f, i) => box(2, i, f, 'field', f));
  if (allFields.length > MAX_FIELDS) root.append(svg('text', { x: cols[2].x + 6, y: y(fields.length) + 12, class: 'caption' }, `+${allFields.length - MAX_FIELDS} more`));
  return root;
}

function productCard(p, detail) {
  const breached = p.serviceLevels.some((l) => l.state === 'BREACHED');
  const lags = detail ? detail.live.partitions.map((x) => x.lag) : [];
  const maxLag = lags.length ? Math.max(...lags) : null;
  const card = el(
    'section',
    { class: 'product', 'data-testid': 'product', 'data-product': p.name, 'data-breached': String(breached) },
    el('div', { class: 'head' }, el('h2', {}, p.name), el('span', { class: 'owner', 'data-testid': 'owner' }, `${p.team} · ${p.contact}`)),
    el('p', { class: 'desc' }, p.description),
    el('div', { class: 'levels' }, ...p.serviceLevels.map(levelBadge)),
    el(
      'dl',
      { class: 'figures' },
      ...figure('events/s in', num(p.live.eventsPerSecond), 'events-per-second'),
      ...figure('max lag', maxLag === null ? '–' : String(maxLag), 'max-lag'),
      ...figure('dead letters/h', `${num(p.live.deadLetters.perHourLastHour, 0)} (${p.live.deadLetters.total} total)`, 'dead-letter-rate'),
      ...figure('valid share', pct(p.live.validShare), 'valid-share'),
      ...figure('last event', clock(p.live.lastAppliedEventAt), 'last-event'),
      ...figure('consumer groups', detail ? String(detail.live.consumerGroups.length) : '–', 'consumer-groups'),
      ...figure('measured', clock(p.live.measuredAt), 'measured-at'),
    ),
  );
  if (detail) card.append(lineageDiagram(p, detail));
  card.append(el('ul', { class: 'problems' }, ...p.live.problems.map((x) => el('li', {}, x))));
  return card;
}

// ---------------------------------------------------------------------------------------------
// Live refresh: the whole list, then each product's lineage and partitions, every REFRESH_MS.
let timer = null;
async function refresh() {
  const dot = $('refresh-dot');
  try {
    const { dataProducts } = await graphql(LIST);
    const details = await Promise.all(dataProducts.map((p) => graphql(DETAIL, { name: p.name }).then((d) => d.dataProduct).catch(() => null)));
    $('products').replaceChildren(...dataProducts.map((p, i) => productCard(p, details[i])));
    $('error').textContent = '';
    dot.dataset.state = 'live';
    $('refresh-status').textContent = `${dataProducts.length} products · ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    dot.dataset.state = 'failing';
    $('refresh-status').textContent = 'not refreshing';
    $('error').textContent = e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
    timer = setTimeout(refresh, REFRESH_MS);
  }
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token-input').value.trim();
  void refresh();
});
window.addEventListener('hashchange', () => {
  takeTokenFromHash();
  void refresh();
});
takeTokenFromHash();
void refresh();
