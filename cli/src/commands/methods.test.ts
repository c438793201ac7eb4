import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../testing/cli.js';
import { describeOptions, METHODS } from 'tfjs-sam';

test('tfjs-sam methods lists every registered method with its paper and its own options from the schema', async () => {
  const out = await runCli(['methods']);
  for (const method of METHODS) {
    assert.match(
      out,
      new RegExp(
        `^${method.name} — ${method.title}: .*\\(${method.paper.replace(/[.()]/g, '\\$&')}\\)$`,
        'm',
      ),
    );
  }
  const gsam = METHODS.find((m) => m.name === 'gsam');
  assert.ok(gsam !== undefined);
  const alpha = describeOptions({ alpha: gsam.options['alpha'] as never })[0] as string;
  assert.equal(alpha, 'alpha (number >= 0, default 0.4): weight of the surrogate-gap descent');
  assert.ok(out.includes(`  ${alpha}`), 'GSAM lists alpha');
  assert.match(out, /^ {2}rho \(number >= 0, default 0\.15\)/m, "XSAM's own rho default is shown");
  assert.match(out, /^msam .*\n {2}passes per step 1; bases momentum, adam, adamw/m);
});
