// Where a partition resumes: after its checkpoint, at the log start without one, rebuilt when the
// view is ahead of its log, and never past a hole in the log.
import { parseCheckpoint, resumePoint } from './checkpoints';
import { UnrecoverableViewError } from './errors';

it('resumes after the checkpoint, or at the log start without one', () => {
  expect(resumePoint('v', 0, null, { start: 0, end: 10 })).toEqual({ kind: 'at', offset: 0 });
  expect(resumePoint('v', 0, null, { start: 4, end: 10 })).toEqual({ kind: 'at', offset: 4 });
  expect(resumePoint('v', 0, 6, { start: 0, end: 10 })).toEqual({ kind: 'at', offset: 7 });
  expect(resumePoint('v', 0, 9, { start: 0, end: 10 })).toEqual({ kind: 'at', offset: 10 });
  expect(resumePoint('v', 0, 3, { start: 4, end: 10 })).toEqual({ kind: 'at', offset: 4 });
});

it('rebuilds a partition whose view is ahead of its log (the topic was recreated)', () => {
  expect(resumePoint('v', 1, 10, { start: 0, end: 10 })).toEqual({ kind: 'ahead', checkpoint: 10, from: 0 });
  expect(resumePoint('v', 1, 500, { start: 0, end: 3 })).toEqual({ kind: 'ahead', checkpoint: 500, from: 0 });
});

it('refuses to go on past records deleted before the view applied them', () => {
  expect(() => resumePoint('v', 2, 3, { start: 6, end: 10 })).toThrow(UnrecoverableViewError);
  expect(() => resumePoint('v', 2, 3, { start: 6, end: 10 })).toThrow('view v partition 2 has a hole: it applied up to offset 3 but the log now starts at 6 (records 4 to 5 were deleted');
});

it('reads checkpoints, and refuses one that is not an offset', () => {
  expect(parseCheckpoint('v', 0, null)).toBeNull();
  expect(parseCheckpoint('v', 0, '42')).toBe(42);
  expect(() => parseCheckpoint('v', 0, 'forty-two')).toThrow(UnrecoverableViewError);
});
