// The bounded call log: the most recent entries in full, the dropped ones counted by key, and
// prefixes restored exactly (time travel truncates to a checkpoint's count).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentLog } from '../../emulator/platform/recentLog';

interface E { seq: number; key: string; at: bigint }
const log = (limit: number) => new RecentLog<E>(limit, (e) => e.key, (e) => e.at);
const e = (seq: number, key = seq % 2 ? 'odd' : 'even'): E => ({ seq, key, at: BigInt(seq % 3) });

test('keeps the last `limit` entries; older ones are counted by key, not kept', () => {
  const l = log(4);
  for (let s = 1; s <= 10; s++) l.push(e(s));
  assert.equal(l.length, 10);
  assert.equal(l.dropped, 6);
  assert.deepEqual(l.toArray().map((x) => x.seq), [7, 8, 9, 10]);
  assert.equal(l.at(5), undefined, 'entry #6 was dropped');
  assert.equal(l.at(6)?.seq, 7);
  assert.equal(l.last()?.seq, 10);
  assert.deepEqual(l.droppedCounts(), [{ key: 'even', count: 3 }, { key: 'odd', count: 3 }]);
  assert.deepEqual([...l.sites()].sort(), [0n, 1n, 2n]);
});

test('truncate within the kept window subtracts; below it the snapshot gives the counts', () => {
  const l = log(4);
  for (let s = 1; s <= 6; s++) l.push(e(s));
  const snap3 = (() => { const k = log(4); for (let s = 1; s <= 3; s++) k.push(e(s)); return k.snapshot(); })();
  l.truncate(5);
  assert.deepEqual(l.toArray().map((x) => x.seq), [3, 4, 5]);
  assert.deepEqual(l.droppedCounts(), [{ key: 'even', count: 1 }, { key: 'odd', count: 1 }]);
  l.truncate(1, (() => { const k = log(4); k.push(e(1)); return k.snapshot(); })());
  assert.equal(l.length, 1);
  assert.equal(l.kept, 0, 'entry #1 had been dropped: it cannot come back');
  assert.deepEqual(l.droppedCounts(), [{ key: 'odd', count: 1 }]);
  assert.equal(snap3.length, 3);
});

test('a copy of a prefix and an extension from a longer history agree with the source', () => {
  const a = log(3);
  for (let s = 1; s <= 5; s++) a.push(e(s));
  const b = a.clone();
  assert.deepEqual(b.toArray().map((x) => x.seq), [3, 4, 5]);
  for (let s = 6; s <= 20; s++) a.push(e(s));
  b.extendFrom(a);
  assert.deepEqual(b.toArray().map((x) => x.seq), [18, 19, 20]);
  assert.deepEqual(b.droppedCounts(), a.droppedCounts());
  const c = log(3);
  c.copyFrom(a, 19);
  assert.deepEqual(c.toArray().map((x) => x.seq), [18, 19]);
  assert.equal(c.length, 19);
});
