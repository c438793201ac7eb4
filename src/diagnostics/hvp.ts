/** Hessian-vector products: exact double backprop, with an opt-in finite-difference fallback. */
import * as tf from '@tensorflow/tfjs-core';
import { checkChoice, checkKnownOptions, checkNumber } from '../util/validate.js';
import { dot, globalNorm, type Tree } from '../math/tree.js';
import {
  assignOffset,
  checkHessianLoss,
  checkVariables,
  disposeAll,
  lossAndGradients,
  readScalar,
  withRestoredState,
  type HessianLoss,
  type LossFn,
  type LossParts,
} from './state.js';

export type HvpMethod = 'auto' | 'double-backprop' | 'finite-difference';

export interface HvpOptions {
  /** 'auto' (default): double backprop, finite differences only if double backprop throws. */
  method?: HvpMethod;
  /** Step along the unit direction for central differences (default 5e-3). */
  finiteDifferenceStep?: number;
}

export interface HvpResult {
  /** H·v, one tensor per variable (owned by the caller). */
  product: tf.Tensor[];
  method: 'double-backprop' | 'finite-difference';
  /** Why finite differences were used, and how accurate they can be; absent for double backprop. */
  warning?: string;
}

const OWNER = 'hessianVectorProduct';
const FINITE_DIFFERENCE_ACCURACY =
  'central differences of gradients: about 2e-5 relative error at step 5e-3 when no ReLU (or other ' +
  'kink) changes sign between w − h·v and w + h·v, but O(1–10) relative error when one does';

export function checkHvpOptions(owner: string, options: HvpOptions): Required<HvpOptions> {
  checkKnownOptions(owner, options, ['method', 'finiteDifferenceStep']);
  return {
    method: checkChoice(owner, 'method', options.method ?? 'auto', [
      'auto',
      'double-backprop',
      'finite-difference',
    ]),
    finiteDifferenceStep: checkNumber(
      owner,
      'finiteDifferenceStep',
      options.finiteDifferenceStep ?? 5e-3,
      { min: 0, minInclusive: false, max: 1 },
    ),
  };
}

/** H·v by differentiating ⟨∇L(w), v⟩ (Pearlmutter 1994). Throws where tfjs cannot. */
export function doubleBackpropHvp(
  lossFn: LossFn,
  variables: readonly tf.Variable[],
  vector: Tree,
): tf.Tensor[] {
  const { value, grads } = tf.variableGrads(() => {
    const inner = tf.variableGrads(lossFn, variables as tf.Variable[]).grads;
    return dot(
      variables.map((v) => inner[v.name] as tf.Tensor),
      vector,
    );
  }, variables as tf.Variable[]);
  value.dispose();
  return variables.map((v) => {
    const g = grads[v.name];
    return g ?? tf.zerosLike(v);
  });
}

/** H·v ≈ ‖v‖ (∇L(w + h·u) − ∇L(w − h·u)) / 2h with u = v/‖v‖; weights restored by snapshot. */
export function finiteDifferenceHvp(
  lossFn: LossFn,
  variables: readonly tf.Variable[],
  vector: Tree,
  step: number,
): tf.Tensor[] {
  const norm = tf.tidy(() => readScalar(globalNorm(vector)));
  if (norm === 0) return variables.map((v) => tf.zerosLike(v));
  return withRestoredState(variables, () => {
    const base = variables.map((v) => tf.keep(tf.clone(v)));
    const offsets = vector.map((t) => tf.mul(t, step / norm));
    const negated = offsets.map((t) => tf.neg(t));
    try {
      assignOffset(variables, base, offsets);
      const plus = lossAndGradients(lossFn, variables).gradients;
      assignOffset(variables, base, negated);
      const minus = lossAndGradients(lossFn, variables).gradients;
      const product = plus.map((p, i) =>
        tf.tidy(() => tf.mul(tf.sub(p, minus[i] as tf.Tensor), norm / (2 * step))),
      );
      disposeAll(plus);
      disposeAll(minus);
      return product;
    } finally {
      assignOffset(variables, base, []);
      disposeAll(base);
      disposeAll(offsets);
      disposeAll(negated);
    }
  });
}

function checkVector(variables: readonly tf.Variable[], vector: unknown): Tree {
  if (!Array.isArray(vector) || vector.length !== variables.length) {
    throw new Error(
      `${OWNER}: 'vector' must be an array of ${variables.length} tensors (one per variable); got ` +
        `${Array.isArray(vector) ? `${vector.length} tensors` : typeof vector}.`,
    );
  }
  vector.forEach((t: tf.Tensor, i) => {
    const v = variables[i] as tf.Variable;
    if (!tf.util.arraysEqual(t.shape, v.shape)) {
      throw new Error(
        `${OWNER}: 'vector[${i}]' has shape [${t.shape}] but variable '${v.name}' has [${v.shape}].`,
      );
    }
  });
  return vector as Tree;
}

/**
 * H·v for the Hessian of `lossFn` with respect to `variables`; `lossFn` may be given in parts
 * (`{parts, weights}`), then H·v is the weighted sum of the parts' products. Call
 * `enableHigherOrderGradients()` first when the loss uses exp/sigmoid/tanh/softmax; without it
 * tfjs silently drops curvature terms there. Weights and BatchNorm statistics are left unchanged.
 */
export function hessianVectorProduct(
  lossFn: HessianLoss,
  variables: readonly tf.Variable[],
  vector: Tree,
  options: HvpOptions = {},
): HvpResult {
  checkHessianLoss(OWNER, lossFn);
  checkVariables(OWNER, variables);
  checkVector(variables, vector);
  const { method, finiteDifferenceStep } = checkHvpOptions(OWNER, options);
  return withRestoredState(variables, () =>
    hvpUnchecked(lossFn, variables, vector, method, finiteDifferenceStep),
  );
}

export function hvpUnchecked(
  loss: HessianLoss,
  variables: readonly tf.Variable[],
  vector: Tree,
  method: HvpMethod,
  step: number,
): HvpResult {
  return typeof loss === 'function'
    ? hvpOfOne(loss, variables, vector, method, step)
    : hvpOfParts(loss, variables, vector, method, step);
}

/** Σ_j weights[j] · H_j·v, one part's graph at a time. */
function hvpOfParts(
  loss: LossParts,
  variables: readonly tf.Variable[],
  vector: Tree,
  method: HvpMethod,
  step: number,
): HvpResult {
  let sum: tf.Tensor[] = [];
  let warning: string | undefined;
  let used: HvpResult['method'] = 'double-backprop';
  for (let j = 0; j < loss.parts.length; j++) {
    const result = hvpOfOne(loss.parts[j] as LossFn, variables, vector, method, step);
    if (result.method === 'finite-difference') used = 'finite-difference';
    warning ??= result.warning;
    const weight = loss.weights[j] as number;
    const previous = sum;
    sum = tf.tidy(() =>
      result.product.map((p, i) =>
        j === 0 ? tf.mul(p, weight) : tf.add(previous[i] as tf.Tensor, tf.mul(p, weight)),
      ),
    );
    disposeAll(previous);
    disposeAll(result.product);
  }
  return { product: sum, method: used, ...(warning !== undefined && { warning }) };
}

function hvpOfOne(
  lossFn: LossFn,
  variables: readonly tf.Variable[],
  vector: Tree,
  method: HvpMethod,
  step: number,
): HvpResult {
  if (method === 'finite-difference') {
    return {
      product: finiteDifferenceHvp(lossFn, variables, vector, step),
      method: 'finite-difference',
      warning: `finite differences were requested (step ${step}); accuracy: ${FINITE_DIFFERENCE_ACCURACY}.`,
    };
  }
  try {
    return { product: doubleBackpropHvp(lossFn, variables, vector), method: 'double-backprop' };
  } catch (error) {
    if (method === 'double-backprop') throw error;
    const reason = error instanceof Error ? error.message : String(error);
    return {
      product: finiteDifferenceHvp(lossFn, variables, vector, step),
      method: 'finite-difference',
      warning:
        `double backprop failed (${reason}); fell back to finite differences (step ${step}). ` +
        `Accuracy: ${FINITE_DIFFERENCE_ACCURACY}.`,
    };
  }
}
