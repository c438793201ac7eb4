import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochWindow } from './flags.js';

test('--sharpness-epochs reads from:to, from: and :to, 1-based and inclusive, and refuses the rest', () => {
  assert.deepEqual(epochWindow('11:60'), { from: 11, to: 60 });
  assert.deepEqual(epochWindow('11:'), { from: 11 });
  assert.deepEqual(epochWindow(':10'), { to: 10 });
  assert.deepEqual(epochWindow('3:3'), { from: 3, to: 3 });
  for (const bad of [':', '0:5', '6:5', 'a:b', '5', '1:2:3']) {
    assert.throws(
      () => epochWindow(bad),
      new RegExp(`--sharpness-epochs is '${bad}'; expected from:to with 1 <= from <= to`),
      bad,
    );
  }
});
