/**
 * `tfjs-sam methods`: every registered method with its paper, cost, capabilities and options,
 * read from the registry and the option schemas (nothing here names a method).
 */
import type { Command } from 'commander';
import { SAM_OPTIONS, type MethodDefinition, describeOptions, METHODS } from 'tfjs-sam';
import { supportingMethods, BASE_OPTIMIZERS, passesPerStep } from 'tfjs-sam/toolkit';
import { startBackend } from '../setup.js';

/**
 * The options a method adds to SAM's or gives other defaults (all of them for SAM itself and for
 * methods that do not extend SAM's options).
 */
function ownOptions(method: MethodDefinition): { lines: string[]; extendsSam: boolean } {
  const isSam = method.options === SAM_OPTIONS && method.fixed === undefined;
  const extendsSam = !isSam && Object.keys(SAM_OPTIONS).every((key) => key in method.options);
  const own = Object.fromEntries(
    Object.entries(method.options).filter(
      ([key, spec]) => !extendsSam || SAM_OPTIONS[key as keyof typeof SAM_OPTIONS] !== spec,
    ),
  );
  const fixed = Object.entries(method.fixed ?? {}).map(
    ([key, value]) => `${key} is ${String(value)}`,
  );
  return { lines: [...fixed, ...describeOptions(own)], extendsSam };
}

export function describeMethods(): string {
  const supporting = (kind: 'mSharpness' | 'dataParallel' | 'dataSelection') =>
    new Set(supportingMethods(kind).map((m) => m.name));
  const mSharpness = supporting('mSharpness');
  const dataParallel = supporting('dataParallel');
  const dataSelection = supporting('dataSelection');
  const blocks = METHODS.map((method) => {
    const steps = [
      mSharpness.has(method.name) ? '--m-sharpness' : null,
      dataParallel.has(method.name) ? '--workers' : null,
      dataSelection.has(method.name) ? 'selects data (trainer step)' : null,
    ].filter((s): s is string => s !== null);
    const { lines, extendsSam } = ownOptions(method);
    const passes = passesPerStep({ label: method.name, name: method.name, options: {} });
    return [
      `${method.name} — ${method.title}: ${method.summary} (${method.paper})`,
      `  passes per step ${Number(passes.toFixed(3))}${steps.length > 0 ? `; ${steps.join(', ')}` : ''}${method.bases ? `; bases ${method.bases.join(', ')}` : ''}`,
      ...(!extendsSam ? lines : [...lines, "and SAM's other options"]).map((line) => `  ${line}`),
    ].join('\n');
  });
  return [
    `Base optimizers: ${BASE_OPTIMIZERS.join(', ')} (base=…, lr=…, momentum=…, weightDecay=…).`,
    'Sharpness-aware methods, written name(option=value,…), e.g. in --optimizers:',
    '',
    blocks.join('\n\n'),
  ].join('\n');
}

export function addMethodsCommand(program: Command): void {
  program
    .command('methods')
    .description('list the sharpness-aware methods with their options, defaults and ranges')
    .action(async () => {
      await startBackend('cpu');
      console.log(describeMethods());
    });
}
