// contracts:check against published versions in a temporary folder: a new optional field or a
// widened type passes; a removed, renamed or narrowed field, a new required field, a removed
// enum value or event type fails, naming the problem. And the repository's contracts pass.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineTopic, type TopicContract } from '../schema/events';
import { array, int, obj, oneOf, optional, str } from '../schema/events/validate';
import { declaredTopics, subgraphDeclarations } from './declarations';
import { checkContracts } from './contracts-check';

const base = { name: 'loyalty.points', partitions: 3, cleanupPolicy: 'delete', retentionMs: -1, keyedBy: 'memberId', owner: 'loyalty' } as const;
const v1 = defineTopic({
  ...base,
  events: {
    PointsEarned: {
      version: 1,
      payload: obj({ memberId: str({ max: 64 }), points: int({ min: 0, max: 1000 }), tier: oneOf(['BRONZE', 'GOLD']), note: optional(str({ max: 100 })), tags: array(str(), { max: 10 }) }),
    },
  },
});

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contracts-'));
  expect(checkContracts([v1], { dir, publish: true }).lines).toEqual(['loyalty.points: new contract, published as v1']);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** v1 with PointsEarned's payload fields replaced. */
const withPayload = (fields: Record<string, unknown>): TopicContract =>
  defineTopic({ ...base, events: { PointsEarned: { version: 1, payload: obj(fields as Parameters<typeof obj>[0]) } } });
const v1Fields = { memberId: str({ max: 64 }), points: int({ min: 0, max: 1000 }), tier: oneOf(['BRONZE', 'GOLD']), note: optional(str({ max: 100 })), tags: array(str(), { max: 10 }) };

it('passes an unchanged contract', () => {
  const outcome = checkContracts([v1], { dir });
  expect(outcome.ok).toBe(true);
  expect(outcome.lines).toEqual(['loyalty.points: v1 (published)']);
});

it('passes a new optional field and a widened type, and publishes them as v2', () => {
  const next = withPayload({ ...v1Fields, points: int({ min: 0, max: 5000 }), tier: oneOf(['BRONZE', 'GOLD', 'PLATINUM']), referrer: optional(str()) });
  const outcome = checkContracts([next], { dir });
  expect(outcome.ok).toBe(true);
  expect(outcome.states[0]).toMatchObject({ status: 'UNPUBLISHED_CHANGE', version: 2 });
  expect(checkContracts([next], { dir, publish: true }).lines).toEqual(['loyalty.points: compatible change since v1, published as v2']);
  expect(checkContracts([next], { dir }).states[0]).toMatchObject({ status: 'PUBLISHED', version: 2 });
  expect(fs.existsSync(path.join(dir, 'loyalty.points', 'v2.json'))).toBe(true);
});

it('passes a new event type', () => {
  const next = defineTopic({ ...base, events: { ...v1.events, PointsSpent: { version: 1, payload: obj({ memberId: str() }) } } });
  expect(checkContracts([next], { dir }).ok).toBe(true);
});

const refused: Array<[string, TopicContract, RegExp]> = [
  ['a removed field', withPayload({ memberId: v1Fields.memberId, points: v1Fields.points, tier: v1Fields.tier, tags: v1Fields.tags }), /PointsEarned\.payload\.note: removed or renamed/],
  ['a renamed field', withPayload({ memberId: v1Fields.memberId, points: v1Fields.points, tier: v1Fields.tier, tags: v1Fields.tags, comment: optional(str({ max: 100 })) }), /PointsEarned\.payload\.note: removed or renamed/],
  ['a narrowed string', withPayload({ ...v1Fields, memberId: str({ max: 32 }) }), /PointsEarned\.payload\.memberId: length 1\.\.64 narrowed to 1\.\.32/],
  ['a narrowed range', withPayload({ ...v1Fields, points: int({ min: 1, max: 1000 }) }), /PointsEarned\.payload\.points: range 0\.\.1000 narrowed to 1\.\.1000/],
  ['a removed enum value', withPayload({ ...v1Fields, tier: oneOf(['GOLD']) }), /PointsEarned\.payload\.tier: no longer accepts BRONZE/],
  ['a changed type', withPayload({ ...v1Fields, points: str() }), /PointsEarned\.payload\.points: type changed from integer to string/],
  ['a new required field', withPayload({ ...v1Fields, storeId: str() }), /PointsEarned\.payload\.storeId: new required field/],
  ['an optional field made required', withPayload({ ...v1Fields, note: str({ max: 100 }) }), /PointsEarned\.payload\.note: (was optional, now required|no longer accepts null)/],
  ['fewer items allowed', withPayload({ ...v1Fields, tags: array(str(), { max: 5 }) }), /PointsEarned\.payload\.tags: item count 0\.\.10 narrowed to 0\.\.5/],
  ['a removed event type', defineTopic({ ...base, events: { PointsSpent: { version: 1, payload: obj({ memberId: str() }) } } }), /PointsEarned: event type removed/],
  ['a new event version', defineTopic({ ...base, events: { PointsEarned: { ...v1.events.PointsEarned, version: 2 } } }), /PointsEarned\.version: was 1, now 2/],
];

it.each(refused)('fails %s, naming it', (_what, next, problem) => {
  const outcome = checkContracts([next], { dir });
  expect(outcome.ok).toBe(false);
  expect(outcome.states[0].status).toBe('INCOMPATIBLE');
  expect(outcome.lines.join('\n')).toMatch(problem);
  // Nothing incompatible is ever published.
  checkContracts([next], { dir, publish: true });
  expect(fs.readdirSync(path.join(dir, 'loyalty.points'))).toEqual(['v1.json']);
});

it("the repository's contracts are compatible with their published versions", () => {
  const outcome = checkContracts(declaredTopics(subgraphDeclarations()));
  expect(outcome.lines.filter((l) => l.includes('NOT'))).toEqual([]);
  expect(outcome.ok).toBe(true);
});
