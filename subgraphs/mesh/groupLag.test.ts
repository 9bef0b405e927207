import { groupLag, type LogRange } from './groupLag';

const ranges = new Map<string, Map<number, LogRange>>([
  ['t', new Map([[0, { low: 0, high: 10 }], [1, { low: 5, high: 8 }], [2, { low: 0, high: 0 }]])],
]);

describe("a consumer group's lag", () => {
  it('counts the records past each committed offset', () => {
    expect(groupLag([{ topic: 't', partitions: [{ partition: 0, offset: '7' }, { partition: 1, offset: '8' }] }], ranges)).toBe(3);
  });

  it('counts every retained record of a partition the group never committed on, not zero', () => {
    expect(groupLag([{ topic: 't', partitions: [{ partition: 0, offset: '10' }, { partition: 1, offset: '-1' }, { partition: 2, offset: '-1' }] }], ranges)).toBe(3);
  });

  it('counts from the log start when the committed offset is below it (records deleted by retention)', () => {
    expect(groupLag([{ topic: 't', partitions: [{ partition: 1, offset: '2' }] }], ranges)).toBe(3);
  });

  it('counts nothing for a partition whose log range is unknown', () => {
    expect(groupLag([{ topic: 't', partitions: [{ partition: 9, offset: '-1' }] }, { topic: 'u', partitions: [{ partition: 0, offset: '1' }] }], ranges)).toBe(0);
  });
});
