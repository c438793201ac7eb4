/**
 * Reading a reference case (the official code's settings in `golden/*.json`) into this library's
 * options: each method's `replay` maps its keys with these, so a key left out takes the method's
 * default and a mistyped one is named.
 */
import type { ReferenceCase } from './method.js';

/** A number the case may set (undefined, so the method's default, when it leaves it out). */
export function referenceNumber(referenceCase: ReferenceCase, key: string): number | undefined {
  return referenceCase.config[key] === undefined
    ? undefined
    : requiredReferenceNumber(referenceCase, key);
}

/** A number the case must set. */
export function requiredReferenceNumber(referenceCase: ReferenceCase, key: string): number {
  const value = referenceCase.config[key];
  if (typeof value !== 'number') {
    throw new Error(
      `golden case '${referenceCase.name}': config.${key} is ${JSON.stringify(value)}; expected a number.`,
    );
  }
  return value;
}

export function referenceFlag(referenceCase: ReferenceCase, key: string): boolean | undefined {
  const value = referenceCase.config[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw new Error(
    `golden case '${referenceCase.name}': config.${key} is ${JSON.stringify(value)}; expected true or false.`,
  );
}

/**
 * `adaptive: true` in a case: the references (davda54/sam, pytorch_optimizer) scale every tensor
 * by |w| with η = 0: ε = ρ·w²·g/‖|w|·g‖.
 */
export function referenceAdaptive(referenceCase: ReferenceCase): Record<string, unknown> {
  return referenceFlag(referenceCase, 'adaptive') === true
    ? { adaptive: true, eta: 0, adaptiveScope: 'all' }
    : {};
}
