import type { InstanceEntry } from '../../platform/registry';
import { createInstanceRouter } from './instanceRouter';

const entry = (name: string, instanceId: string, lastSeen: number, url = `http://${instanceId}/graphql`): InstanceEntry => ({ name, instanceId, url, wsUrl: url.replace('http', 'ws'), sdlHash: 'h', lastSeen });

describe('instance router', () => {
  it('routes to live instances in turn and to none when they are all gone', () => {
    const r = createInstanceRouter({ absenceWindowMs: 15_000 });
    const { joined } = r.update([entry('ratings', 'a', 1000), entry('ratings', 'b', 1000)], 2000);
    expect(joined.map((j) => j.entry.instanceId)).toEqual(['a', 'b']);
    expect([r.pick('ratings', 2000)?.instanceId, r.pick('ratings', 2000)?.instanceId, r.pick('ratings', 2000)?.instanceId]).toEqual(['a', 'b', 'a']);
    expect(r.pick('catalog', 2000)).toBeNull();
    const { left } = r.update([], 3000);
    expect(left.map((l) => [l.entry.instanceId, l.why])).toEqual([['a', 'deregistered'], ['b', 'deregistered']]);
    expect(r.pick('ratings', 3000)).toBeNull();
  });

  it('stops routing to an instance whose heartbeats stopped, and says so', () => {
    const r = createInstanceRouter({ absenceWindowMs: 15_000 });
    r.update([entry('ratings', 'a', 1000)], 1000);
    expect(r.pick('ratings', 16_001)).toBeNull();
    const { left } = r.update([entry('ratings', 'a', 1000)], 16_001);
    expect(left.map((l) => l.why)).toEqual(['heartbeats stopped']);
  });

  it('skips an instance that refused a connection for a while, then tries it again', () => {
    const r = createInstanceRouter({ absenceWindowMs: 15_000, downForMs: 2000 });
    r.update([entry('ratings', 'a', 1000), entry('ratings', 'b', 1000)], 1000);
    r.markDown('http://a/graphql', 1000);
    expect([r.pick('ratings', 1500)?.instanceId, r.pick('ratings', 1500)?.instanceId]).toEqual(['b', 'b']);
    r.markDown('http://b/graphql', 1500);
    expect(r.pick('ratings', 1600)).toBeNull();
    expect(r.pick('ratings', 3100)?.instanceId).toBe('a');
  });

  it('skips an instance whose graphql-ws address dropped a subscription connection', () => {
    const r = createInstanceRouter({ absenceWindowMs: 15_000, downForMs: 2000 });
    r.update([entry('orders', 'a', 1000), entry('orders', 'b', 1000)], 1000);
    r.markDown('ws://a/graphql', 1000);
    expect([r.pick('orders', 1500)?.wsUrl, r.pick('orders', 1500)?.wsUrl]).toEqual(['ws://b/graphql', 'ws://b/graphql']);
    expect(r.pick('orders', 3100)?.instanceId).toBeDefined();
  });

  it('forgets a refusal when a new instance registers on that address (a restart)', () => {
    const r = createInstanceRouter({ absenceWindowMs: 15_000 });
    r.update([entry('ratings', 'a', 1000, 'http://127.0.0.1:4010/graphql')], 1000);
    r.markDown('http://127.0.0.1:4010/graphql', 1000);
    expect(r.pick('ratings', 1100)).toBeNull();
    r.update([entry('ratings', 'a2', 1200, 'http://127.0.0.1:4010/graphql')], 1200);
    expect(r.pick('ratings', 1200)?.instanceId).toBe('a2');
  });
});
