/**
 * The registry entries of SAM itself (Foret et al., ICLR 2021; src/core/sam.ts) and of ASAM, its
 * adaptive form (Kwon et al., ICML 2021): ε = ρ·T²g/‖Tg‖ with T = |w| + η. Multi-step SAM is
 * `sam(ascentSteps=k)`.
 */
import { asam, sam } from '../core/sam.js';
import { SAM_OPTIONS } from '../core/sam-options.js';
import type { MethodDefinition } from '../core/method.js';
import { referenceAdaptive, referenceNumber, requiredReferenceNumber } from '../core/reference.js';

export const SAM_METHOD: MethodDefinition = {
  name: 'sam',
  title: 'SAM',
  summary: 'gradient at w + ρ·g/‖g‖, applied at w by the base optimizer',
  paper: 'Foret et al., ICLR 2021',
  options: SAM_OPTIONS,
  create: (base, options) => sam(base, options),
  passes: (o) => 1 + (o['ascentSteps'] as number),
  variants: [{ ascentSteps: 2 }],
  replay: (c) => ({
    options: {
      rho: requiredReferenceNumber(c, 'rho'),
      ascentSteps: referenceNumber(c, 'ascentSteps'),
      epsilon: 1e-12,
      ...referenceAdaptive(c),
    },
  }),
};

export const ASAM_METHOD: MethodDefinition = {
  name: 'asam',
  title: 'ASAM',
  summary: 'SAM in a neighbourhood scaled by |w| + η (adaptive sharpness)',
  paper: 'Kwon et al., ICML 2021',
  options: SAM_OPTIONS,
  fixed: { adaptive: true },
  create: (base, options) => asam(base, options),
  passes: (o) => 1 + (o['ascentSteps'] as number),
  // The reference (davda54/sam) scales every tensor, η 0 unless the case sets it.
  replay: (c) => ({
    options: {
      rho: requiredReferenceNumber(c, 'rho'),
      ascentSteps: referenceNumber(c, 'ascentSteps'),
      eta: referenceNumber(c, 'eta') ?? 0,
      adaptiveScope: 'all',
      epsilon: 1e-12,
    },
  }),
};
