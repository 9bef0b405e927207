// The tests a scaffolded subgraph starts with: its folds' unit test and its integration test
// against the real broker and Redis.
import type { Carrier } from './carrier';
import { namesOf, ownerOf, plural, type TemplateInput } from './templateInput';

/** A value as a TypeScript literal, with the id fields taken from the variable `id`. */
function literal(values: Record<string, unknown>, isId: (k: string) => boolean): string {
  return `{ ${Object.entries(values).map(([k, v]) => (isId(k) ? `${k}: id` : `${k}: ${JSON.stringify(v)}`)).join(', ')} }`;
}

/**
 * How the generated tests make one extended entity known, as code using a variable `id`: an
 * event of the carrier built from its contract (`event`, for the fold's test), and what to
 * import from schema/events for it. For a topic of Debezium changes also the record itself
 * (`record`), which the integration test writes as the owner's database would. Null when the
 * scaffold could not build one.
 */
function knownEventCode(carrier: Carrier): { imports: string[]; event: string; record: string | null } | null {
  const C = carrier.exportName;
  if (carrier.sample) {
    const payload = literal(carrier.sample, (k) => k === carrier.idField || k === carrier.contract.keyedBy);
    return { imports: ['createEvent', C], event: `createEvent(${C}, '${carrier.creates[0]}', ${payload})`, record: null };
  }
  if (carrier.debeziumRow) {
    const row = literal(carrier.debeziumRow, (k) => k === carrier.idField);
    const record = `debeziumRecord({ key: { ${carrier.idField}: id }, op: 'c', lsn: ++lsn, after: ${row} })`;
    return { imports: ['debeziumRecord', 'validateEvent', C], event: `validateEvent(${C}, ${C}.fromRecord!(rec.key, rec.value))`, record };
  }
  return null;
}

export function projectionTest(i: TemplateInput): string {
  const { n, x, imports, carrier } = i;
  const { projection, entity, itemId, summaryId, index, event, idField, known } = namesOf(i);
  const code = carrier ? knownEventCode(carrier) : null;
  const knownTest =
    carrier && code
      ? `
it('knows ${x.a} once ${ownerOf(carrier)} publishes it, and only once', () => {
  const id = 'known-1';
${code.record ? `  let lsn = 0;\n  const rec = ${code.record};\n` : ''}  const e = ${code.event};
  const at = { partition: 0, offset: 0, occurredAt: e.occurredAt };
  expect([...${known}.apply(new Map(), e, at)]).toEqual([[id, { id }]]);
  expect(${known}.apply(new Map([[id, { id }]]), e, at).size).toBe(0);
});
`
      : '';
  const eventImports = [...new Set(['createEvent', 'partitionForKey', ...(code ? code.imports : [])])].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));
  return `// The ${n.name} fold with plain objects: no Kafka, no Redis.
import { ${eventImports.join(', ')} } from '${imports.events}';
import { ${n.constant}_TOPIC } from './contract';
import { ${[projection, itemId, summaryId, index, ...(code ? [known] : []), `type ${entity}`].join(', ')} } from './projection';

const recorded = (${idField}: string, ${x.idField}: string, score: number, title: string, occurredAt: string) =>
  createEvent(${n.constant}_TOPIC, '${event}', { ${idField}, ${x.idField}, authorId: 'author-1', score, title }, { occurredAt });

/** Folds events in log order from an empty view, as the runtime does for one partition. */
function fold(events: ReadonlyArray<ReturnType<typeof recorded>>): Map<string, ${entity} | undefined> {
  const view = new Map<string, ${entity} | undefined>();
  events.forEach((event, offset) => {
    const at = { partition: 0, offset, occurredAt: event.occurredAt };
    for (const [id, state] of ${projection}.apply(view, event, at)) view.set(id, state);
  });
  return view;
}

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:05.000Z';
const T2 = '2026-01-01T00:00:09.000Z';

it("keeps each ${x.words}'s count and score total, folding its ${plural(n)} in order", () => {
  const view = fold([recorded('r1', 'x1', 4, 'Good', T0), recorded('r2', 'x1', 2, 'Meh', T1), recorded('r3', 'x2', 5, 'Great', T2)]);
  expect(view.get(${summaryId}('x1'))).toEqual({ kind: 'summary', ${x.idField}: 'x1', count: 2, scoreTotal: 6, updatedAt: T1, version: 2 });
  expect(view.get(${summaryId}('x2'))).toMatchObject({ count: 1, scoreTotal: 5 });
  expect(view.get(${itemId}('r2'))).toEqual({
    kind: 'item',
    id: 'r2',
    ${x.idField}: 'x1',
    authorId: 'author-1',
    score: 2,
    title: 'Meh',
    createdAt: T1,
    updatedAt: T1,
    version: 1,
  });
});

it('replaces a changed ${n.entityWords}\\'s score in the aggregate; a duplicate changes nothing', () => {
  const view = fold([recorded('r1', 'x1', 4, 'Good', T0), recorded('r1', 'x1', 2, 'Less good', T1), recorded('r1', 'x1', 2, 'Less good', T2)]);
  expect(view.get(${summaryId}('x1'))).toMatchObject({ count: 1, scoreTotal: 2, version: 2 });
  expect(view.get(${itemId}('r1'))).toMatchObject({ score: 2, createdAt: T0, updatedAt: T1, version: 2 });
});

it('keys every event by the ${x.words}: one partition holds all of its ${plural(n)} and its aggregate', () => {
  const a = recorded('r1', 'x1', 4, 'Good', T0);
  const b = recorded('r2', 'x1', 1, 'Bad', T1);
  expect([a.key, b.key]).toEqual(['x1', 'x1']);
  const partitions = ${n.constant}_TOPIC.partitions;
  expect(partitionForKey(${projection}.recordKeyOf(${summaryId}('x1'))!, partitions)).toBe(partitionForKey(a.key, partitions));
  // A ${n.entityWords} read asks every partition; combine keeps the newest part.
  expect(${projection}.recordKeyOf(${itemId}('r1'))).toBeNull();
  const [older, newer] = [fold([a]).get(${itemId}('r1'))!, fold([a, recorded('r1', 'x1', 5, 'Better', T1)]).get(${itemId}('r1'))!];
  expect(${projection}.combine!([newer, older])).toBe(newer);
});

it("indexes each ${x.words}'s ${plural(n)}, newest first", () => {
  const state = fold([recorded('r1', 'x1', 3, 'Fine', T0)]).get(${itemId}('r1'))!;
  expect(${projection}.indexes!(${itemId}('r1'), state)).toEqual([{ index: ${index}('x1'), score: -Date.parse(T0) }]);
});

it('refuses an event that breaks the contract, naming the field', () => {
  expect(() => recorded('r1', 'x1', 6, 'Too good', T0)).toThrow(/event\\.payload\\.score: expected an integer from 1 to 5/);
  expect(() => recorded('r1', 'x1', 3, '', T0)).toThrow(/event\\.payload\\.title: expected a string of 1 to 200 characters/);
});
${knownTest}`;
}

export function integrationTest(i: TemplateInput): string {
  const { n, x, imports, carrier } = i;
  const { a, E, X } = namesOf(i);
  const P = n.pascal;
  const code = carrier ? knownEventCode(carrier) : null;
  const waitKnown = `await subgraph.views.${x.knownView}.handle.waitFor`;
  const publish = !carrier
    ? `
/** No declared topic carries ${X}: every ${x.idField} is accepted, so there is nothing to publish. */
async function publish${X}(_id: string): Promise<void> {}
`
    : code?.record
      ? `
let lsn = Date.now() * 1000;

/** Writes ${x.a} as ${ownerOf(carrier)}'s database does (a Debezium change), and waits until this subgraph knows it. */
async function publish${X}(id: string): Promise<void> {
  const producer = subgraph.runtime.kafka.producer();
  await producer.connect();
  try {
    const [at] = await producer.send({ topic: subgraph.runtime.topic(${carrier.exportName}), acks: -1, messages: [${code.record}] });
    ${waitKnown}(at.partition, Number(at.baseOffset), 10_000);
  } finally {
    await producer.disconnect();
  }
}
`
      : code
        ? `
/** Publishes ${x.a} as ${ownerOf(carrier)} does, and waits until this subgraph knows it. */
async function publish${X}(id: string): Promise<void> {
  const at = await subgraph.runtime.producer.publish(subgraph.runtime.topic(${carrier.exportName}), ${code.event});
  ${waitKnown}(at.partition, at.offset, 10_000);
}
`
        : `
/** Publishes ${x.a} as ${ownerOf(carrier)} does, and waits until this subgraph knows it. */
async function publish${X}(id: string): Promise<void> {
  // new-subgraph could not build a ${carrier.creates[0]} from its contract: write one here.
  throw new Error(\`publish ${x.words} \${id}: write the event in ${n.name}.test.ts\`);
}
`;
  // Tests that need an existing ${X}: pending when the scaffold could not publish one.
  const canPublish = !carrier || code !== null;
  const itKnown = canPublish
    ? ''
    : `
// new-subgraph could not publish ${x.a} for the tests that need one (no payload or row image of
// ${carrier!.contract.name} could be built from its contract). Write publish${X}() as
// ${ownerOf(carrier!)} writes them, then make these \`it\` again.
const itWith${X} = (name: string, _test: () => Promise<void>) => it.todo(name);
`;
  const known = canPublish ? 'it' : `itWith${X}`;
  const notFoundTest = carrier
    ? `
it('refuses ${x.a} that does not exist with NOT_FOUND, and writes nothing', async () => {
  const admin = subgraph.runtime.kafka.admin();
  await admin.connect();
  const ends = async () => (await admin.fetchTopicOffsets(subgraph.runtime.topic(${n.constant}_TOPIC))).map((p) => p.high).join();
  try {
    const before = await ends();
    const res = await record({ ${x.idField}: 'no-such-${x.camel}', score: 3, title: 'x' });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', id: 'no-such-${x.camel}' });
    expect(res.data).toBeNull();
    expect(await ends()).toBe(before);
  } finally {
    await admin.disconnect();
  }
});
`
    : '';
  return `// The ${n.name} subgraph against the real broker and Redis: read-your-writes, who may write,
// ${carrier ? `NOT_FOUND for ${x.a} that does not exist, ` : ''}the ${X} fields the gateway fetches through _entities, and the subscription.
${code && canPublish ? `import { ${code.imports.filter((m) => code.record === null || m !== 'validateEvent').join(', ')} } from '${imports.events}';\n` : ''}import { anonymous, as, collect, gql, TEST_IDENTITY_SECRET, wsClient } from '${imports.testSupport}/graphqlClient';
import { createNamespace } from '${imports.testSupport}/namespace';
import { uniqueName, waitFor } from '${imports.testSupport}/waitFor';
${carrier ? `import { ${n.constant}_TOPIC } from './contract';\n` : ''}import { declaration } from './declaration';
import { start${P}Subgraph, type ${P}SubgraphHandle } from './index';

let subgraph: ${P}SubgraphHandle;

beforeAll(async () => {
  // Every declared topic under a fresh prefix; this subgraph's too, wherever its folder is.
  const namespace = await createNamespace('${n.name}', declaration.topics);
  // Not announced: this file talks to the subgraph directly, as the gateway would.
  subgraph = await start${P}Subgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, register: false });
});

afterAll(async () => {
  await subgraph?.close();
});
${publish}${itKnown}
const FIELDS = 'id score title version createdAt ${x.camel} { ${x.keyField} }';
const record = (input: Record<string, unknown>, who = as('author-1', 'customer')) =>
  gql(subgraph.url, \`mutation($input: Record${E}Input!) { ${a.record}(input: $input) { \${FIELDS} } }\`, { input }, who);
const aggregate = async (id: string) => {
  const res = await gql(
    subgraph.url,
    \`query($r: [_Any!]!) { _entities(representations: $r) { ... on ${X} { ${a.average} ${a.count} ${a.list}(first: 10) { edges { node { title score } } pageInfo { hasNextPage } } } } }\`,
    { r: [{ __typename: '${X}', ${x.keyField}: id }] },
    anonymous,
  );
  expect(res.errors).toBeUndefined();
  return res.data!._entities[0];
};

${known}("answers a write from the view and keeps the ${x.words}'s aggregate", async () => {
  const target = uniqueName('${x.camel}');
  await publish${X}(target);
  const first = await record({ ${x.idField}: target, score: 4, title: 'First' });
  expect(first.errors).toBeUndefined();
  const created = first.data!.${a.record};
  expect(created).toMatchObject({ score: 4, title: 'First', version: 1, ${x.camel}: { ${x.keyField}: target } });
  expect(await aggregate(target)).toEqual({ ${a.average}: 4, ${a.count}: 1, ${a.list}: { edges: [{ node: { title: 'First', score: 4 } }], pageInfo: { hasNextPage: false } } });
  // A change replaces its score in the aggregate; a second one adds to it.
  const changed = await record({ id: created.id, ${x.idField}: target, score: 2, title: 'Second' });
  expect(changed.data!.${a.record}).toMatchObject({ id: created.id, score: 2, version: 2, createdAt: created.createdAt });
  expect((await record({ ${x.idField}: target, score: 5, title: 'Third' }, as('author-2', 'customer'))).errors).toBeUndefined();
  expect(await aggregate(target)).toMatchObject({ ${a.average}: 3.5, ${a.count}: 2 });
  const read = await gql(subgraph.url, \`query($id: ID!) { ${n.entityCamel}(id: $id) { title version } }\`, { id: created.id }, anonymous);
  expect(read.data!.${n.entityCamel}).toEqual({ title: 'Second', version: 2 });
});

${known}('lets any signed-in caller write, only the author or an admin change it, and names a bad field', async () => {
  const target = uniqueName('${x.camel}');
  await publish${X}(target);
  expect((await record({ ${x.idField}: target, score: 3, title: 'x' }, anonymous)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  const mine = (await record({ ${x.idField}: target, score: 3, title: 'Mine' })).data!.${a.record};
  expect((await record({ id: mine.id, ${x.idField}: target, score: 1, title: 'x' }, as('someone-else', 'customer'))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect((await record({ id: mine.id, ${x.idField}: target, score: 1, title: 'By the admin' }, as('admin-1', 'admin'))).errors).toBeUndefined();
  expect((await record({ ${x.idField}: target, score: 6, title: 'x' })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.score' });
  expect((await record({ ${x.idField}: target, score: 3, title: '' })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.title' });
});
${notFoundTest}
${known}('${a.changed} sends the aggregate now, then again after every change', async () => {
  const target = uniqueName('${x.camel}');
  await publish${X}(target);
  const client = wsClient(subgraph.wsUrl, as('watcher-1', 'customer'));
  const sub = collect(client, \`subscription($id: ${x.keyType}!) { ${a.changed}(${x.idField}: $id) { ${x.keyField} ${a.count} ${a.average} } }\`, { id: target });
  try {
    await waitFor(() => sub.received.length >= 1 || sub.error(), { what: 'the current aggregate' });
    expect(sub.received[0]).toEqual({ data: { ${a.changed}: { ${x.keyField}: target, ${a.count}: 0, ${a.average}: null } } });
    expect((await record({ ${x.idField}: target, score: 3, title: 'Live' })).errors).toBeUndefined();
    await waitFor(() => sub.received.length >= 2, { what: 'the changed aggregate' });
    expect(sub.received[1]).toEqual({ data: { ${a.changed}: { ${x.keyField}: target, ${a.count}: 1, ${a.average}: 3 } } });
  } finally {
    sub.dispose();
    await client.dispose();
  }
});
`;
}
