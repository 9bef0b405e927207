// The per-connection send queue: pure logic, with a socket stand-in whose writes complete
// when the test says so (a client that reads slowly).
import { createSendQueue } from './sendQueue';

function slowSocket() {
  const written: string[] = [];
  const pending: Array<() => void> = [];
  return {
    written,
    write: (text: string, done: () => void) => {
      written.push(text);
      pending.push(done);
    },
    /** The client reads everything written so far. */
    drain() {
      while (pending.length > 0) pending.shift()!();
    },
  };
}

describe('createSendQueue', () => {
  it('writes straight through while the client keeps up', () => {
    const socket = slowSocket();
    const q = createSendQueue({ maxInFlight: 2, maxQueued: 10, write: socket.write, onOverflow: () => fail('no overflow') });
    q.push('a', '1');
    q.push('a', '2');
    expect(socket.written).toEqual(['1', '2']);
    expect(q.size()).toBe(0);
  });

  it('keeps only the newest state of each object for a lagging client, in first-queued order', () => {
    const socket = slowSocket();
    let conflated = 0;
    const q = createSendQueue({ maxInFlight: 1, maxQueued: 10, write: socket.write, onOverflow: () => fail('no overflow'), onConflate: () => conflated++ });
    q.push('order-1', 'o1 v1');
    for (let v = 2; v <= 50; v++) q.push('order-1', `o1 v${v}`);
    q.push('order-2', 'o2 v1');
    q.push('order-2', 'o2 v2');
    expect(q.size()).toBe(2);
    socket.drain();
    socket.drain();
    expect(socket.written).toEqual(['o1 v1', 'o1 v50', 'o2 v2']);
    expect(conflated).toBe(48 + 1);
  });

  it('never merges unkeyed messages, and cuts the client off past the bound instead of growing', () => {
    const socket = slowSocket();
    const overflows: number[] = [];
    const q = createSendQueue({ maxInFlight: 1, maxQueued: 3, write: socket.write, onOverflow: (n) => overflows.push(n) });
    for (let i = 0; i < 4; i++) q.push(`#${i}`, `m${i}`);
    expect(q.size()).toBe(3);
    q.push('#4', 'm4');
    expect(overflows).toEqual([3]);
    expect(q.size()).toBe(0);
    q.push('#5', 'm5');
    socket.drain();
    expect(socket.written).toEqual(['m0']);
  });

  it('drops the waiting messages of an ended subscription', () => {
    const socket = slowSocket();
    const q = createSendQueue({ maxInFlight: 1, maxQueued: 10, write: socket.write, onOverflow: () => fail('no overflow') });
    q.push('1\u0000a', 'first');
    q.push('1\u0000b', 'sub 1');
    q.push('2\u0000a', 'sub 2');
    q.drop('1\u0000');
    socket.drain();
    socket.drain();
    expect(socket.written).toEqual(['first', 'sub 2']);
  });
});
