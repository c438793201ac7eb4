import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_BACKENDS, useBackend } from './backends.js';
import { GOLDEN_DIR, GOLDEN_TOLERANCE, replayCase, type GoldenFile } from './golden.js';

// The repository's copies: a missing file fails the test (the correctness contract is in the repo).
const GOLDEN_PATH = join(GOLDEN_DIR, 'sam-family.json');
/** Cases this library must reproduce today; the rest may be UNSUPPORTED until their method lands. */
const REQUIRED = [
  'sgd',
  'momentum',
  'adam',
  'adamw',
  'sam_sgd',
  'sam_momentum',
  'sam_adamw',
  'asam_momentum',
  'gsam_momentum',
  'wsam_momentum',
  'looksam_adam',
  'fsam_momentum',
  'msam',
  'msam_wd',
  'xsam_static_momentum',
  'xsam_dynamic_momentum',
  'xsam_dynamic_wide_momentum',
  'xsam_multistep_momentum',
];

for (const backend of TEST_BACKENDS) {
  test(`${backend}: golden replay of golden/sam-family.json`, async () => {
    await useBackend(backend);
    const file = JSON.parse(readFileSync(GOLDEN_PATH, 'utf8')) as GoldenFile;
    const results = file.cases.map((c) => replayCase(file, c));
    for (const name of REQUIRED) {
      const result = results.find((r) => r.name === name);
      assert.ok(result !== undefined, `case ${name} missing from the golden file`);
      assert.ok(
        result.status === 'PASS' || (result.status === 'TIE' && name.startsWith('xsam')),
        `${name}: ${result.status}, error ${result.maxRelativeError} (loss ${result.lossRelativeError}), tolerance ${GOLDEN_TOLERANCE}${result.detail ? `; ${result.detail}` : ''}`,
      );
    }
    const failed = results.filter((r) => r.status === 'FAIL');
    assert.deepEqual(
      failed.map((r) => `${r.name} ${r.maxRelativeError}`),
      [],
    );
  });
}

/** Files every case of which the library must reproduce (ESAM with its masks, SAM-ON, SAMPa, Lookbehind-SAM, VaSSO). */
const WHOLLY_REQUIRED = ['sam-family-esam.json', 'sam-family-samon.json', 'sam-family-next.json'];

for (const backend of TEST_BACKENDS) {
  for (const name of WHOLLY_REQUIRED) {
    test(`${backend}: golden replay of golden/${name}: every case passes`, async () => {
      await useBackend(backend);
      const file = JSON.parse(readFileSync(join(GOLDEN_DIR, name), 'utf8')) as GoldenFile;
      assert.ok(file.cases.length > 0, `cases in ${name}`);
      const results = file.cases.map((c) => replayCase(file, c));
      assert.deepEqual(
        results
          .filter((r) => r.status !== 'PASS')
          .map((r) => `${r.name} ${r.status} ${r.maxRelativeError} ${r.detail ?? ''}`),
        [],
      );
    });
  }
}

test('cpu: a replayed ESAM step that selects other examples than the reference is reported', async () => {
  await useBackend('cpu');
  const file = JSON.parse(
    readFileSync(join(GOLDEN_DIR, 'sam-family-esam.json'), 'utf8'),
  ) as GoldenFile;
  const sds = file.cases.find((c) => c.name === 'esam_sds_momentum');
  assert.ok(sds !== undefined && Array.isArray(sds['selected']));
  const selected = (sds['selected'] as number[][]).map((s, step) => (step === 2 ? s.slice(1) : s));
  const result = replayCase(file, { ...sds, selected });
  assert.equal(result.status, 'FAIL');
  assert.match(result.detail ?? '', /step 2: selected \[.*\], the reference \[/);
});

test('cpu: the α tie-break takes the reference only within float32 resolution, never past it', async () => {
  await useBackend('cpu');
  const file = JSON.parse(readFileSync(GOLDEN_PATH, 'utf8')) as GoldenFile;
  const wide = file.cases.find((c) => c.name === 'xsam_dynamic_wide_momentum');
  assert.ok(wide?.alphas, 'xsam_dynamic_wide_momentum with alphas');
  // A reference α whose probe loss is far from the maximum must be reported, not adopted.
  const alphas = wide.alphas.map((alpha, step) => (step === 3 ? 0 : alpha));
  const result = replayCase(file, { ...wide, alphas });
  assert.equal(result.status, 'FAIL');
  assert.match(result.detail ?? '', /step 3: alpha 8, expected 0/);
});

test("cpu: a case may leave out the keys whose value is the method's default, and a mistyped key is named", async () => {
  await useBackend('cpu');
  const file = JSON.parse(readFileSync(GOLDEN_PATH, 'utf8')) as GoldenFile;
  const byName = (name: string) => {
    const found = file.cases.find((c) => c.name === name);
    assert.ok(found !== undefined, `case ${name}`);
    return found;
  };
  const without = (name: string, keys: string[]) => {
    const c = byName(name);
    const config = Object.fromEntries(
      Object.entries(c.config).filter(([key]) => !keys.includes(key)),
    );
    return replayCase(file, { ...c, config });
  };
  // GSAM's α 0.4, XSAM's single ascent step, ρ_max = 2ρ and α search every step are defaults.
  assert.equal(without('gsam_momentum', ['alpha']).status, 'PASS');
  assert.equal(
    without('xsam_static_momentum', ['ascentSteps', 'rhoMax', 'alphaEvery']).status,
    'PASS',
  );
  // `adaptive: true` on a SAM case is the references' ASAM (davda54/sam, pytorch_optimizer).
  const asamCase = byName('asam_momentum');
  assert.equal(
    replayCase(file, {
      ...asamCase,
      optimizer: 'sam',
      config: { ...asamCase.config, adaptive: true },
    }).status,
    'PASS',
  );
  // Leaving out a key that is not at its default changes the trajectory: the replay says so.
  assert.equal(without('looksam_adam', ['k']).status, 'FAIL', 'LookSAM k 3 → default 5');
  assert.throws(() => without('wsam_momentum', ['rho']), /config\.rho is undefined/);
  const gsamCase = byName('gsam_momentum');
  assert.throws(
    () => replayCase(file, { ...gsamCase, config: { ...gsamCase.config, alpha: '0.4' } }),
    /golden case 'gsam_momentum': config\.alpha is "0\.4"; expected a number/,
  );
});

for (const backend of TEST_BACKENDS) {
  test(`${backend}: every case of every golden file passes, ties within float32, or is not supported yet`, async () => {
    await useBackend(backend);
    const files = readdirSync(GOLDEN_DIR).filter((name) => name.endsWith('.json'));
    assert.ok(
      files.includes('sam-family.json'),
      `golden files in ${GOLDEN_DIR}: ${files.join(', ')}`,
    );
    const failed: string[] = [];
    for (const name of files) {
      const file = JSON.parse(readFileSync(join(GOLDEN_DIR, name), 'utf8')) as GoldenFile;
      for (const goldenCase of file.cases) {
        const result = replayCase(file, goldenCase);
        if (result.status === 'FAIL')
          failed.push(`${name}: ${result.name} ${result.maxRelativeError} ${result.detail ?? ''}`);
      }
    }
    assert.deepEqual(failed, []);
  });
}

test('a case of a problem the replay does not build is unsupported, never compared on the wrong problem', () => {
  const file = JSON.parse(readFileSync(GOLDEN_PATH, 'utf8')) as GoldenFile;
  const momentum = file.cases.find((c) => c.name === 'momentum');
  assert.ok(momentum !== undefined);
  const result = replayCase(file, { ...momentum, problem: 'groupnorm' });
  assert.equal(result.status, 'UNSUPPORTED');
  assert.match(result.detail ?? '', /problem 'groupnorm' is not built/);
});
