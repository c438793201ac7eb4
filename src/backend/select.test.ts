import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';

test('without tfjs-node, selectBackend picks wasm with the training kernels', async () => {
  const messages: string[] = [];
  const name = await selectBackend({ log: (m) => messages.push(m) });
  assert.equal(name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.notEqual(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
  await selectBackend({ log: (m) => messages.push(m) });
  assert.equal(messages.length, 1, 'the choice is logged once');
  assert.match(messages[0] ?? '', /wasm/);
});

test('prefer cpu switches to cpu', async () => {
  assert.equal(await selectBackend({ prefer: 'cpu', log: () => {} }), 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
});

test('prefer node fails clearly when tfjs-node is missing', async () => {
  await assert.rejects(
    selectBackend({ prefer: 'node', log: () => {} }),
    /'node' is not available: install @tensorflow\/tfjs-node/,
  );
});
