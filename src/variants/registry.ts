/**
 * Every method of the family, one line each: the CLI, the trainer, the golden replay, the
 * benchmarks and the demo read this list and name no method themselves. A new method is its file
 * (class, options schema, `…_METHOD` entry) and one line here.
 */
import type { MethodDefinition } from '../core/method.js';
import { ESAM_METHOD } from './esam.js';
import { FSAM_METHOD } from './fsam.js';
import { GSAM_METHOD } from './gsam.js';
import { LOOKSAM_METHOD } from './looksam.js';
import { MSAM_METHOD } from './msam.js';
import { ASAM_METHOD, SAM_METHOD } from './sam.js';
import { SAMON_METHOD } from './sam-on.js';
import { WSAM_METHOD } from './wsam.js';
import { LOOKBEHIND_METHOD } from './lookbehind.js';
import { SAMPA_METHOD } from './sampa.js';
import { VASSO_METHOD } from './vasso.js';
import { XSAM_METHOD } from './xsam.js';

export const METHODS: readonly MethodDefinition[] = [
  SAM_METHOD,
  ASAM_METHOD,
  GSAM_METHOD,
  WSAM_METHOD,
  LOOKSAM_METHOD,
  FSAM_METHOD,
  SAMON_METHOD,
  ESAM_METHOD,
  MSAM_METHOD,
  XSAM_METHOD,
  VASSO_METHOD,
  LOOKBEHIND_METHOD,
  SAMPA_METHOD,
];

/** The method named `name` (as in specs: `gsam`), or undefined. */
export function findMethod(name: string): MethodDefinition | undefined {
  return METHODS.find((method) => method.name === name);
}
