import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradient functions by itself; tfjs-layers (a peer dependency) does.
// Every optimizer here computes or applies gradients through this module, so core-only users
// get working gradients too.
import '@tensorflow/tfjs-layers';
import type { NamedTensor } from '../util/types.js';

export interface VariableGradient {
  variable: tf.Variable;
  gradient: tf.Tensor;
}

/** Resolves `{name: gradient}` or `[{name, tensor}]` to registered variables, skipping nulls. */
export function gradientList(
  variableGradients: tf.NamedTensorMap | NamedTensor[],
  owner: string,
): VariableGradient[] {
  const entries: Array<[string, tf.Tensor | null | undefined]> = Array.isArray(variableGradients)
    ? variableGradients.map((g) => [g.name, g.tensor])
    : Object.entries(variableGradients);
  const registered = tf.engine().registeredVariables;
  const out: VariableGradient[] = [];
  for (const [name, gradient] of entries) {
    if (gradient == null) continue;
    const variable = registered[name];
    if (variable === undefined) {
      throw new Error(
        `${owner}: got a gradient for '${name}', but no variable of that name exists (disposed, or a typo?). ` +
          'Gradients must be keyed by the variable names, as tf.variableGrads returns them.',
      );
    }
    out.push({ variable, gradient });
  }
  return out;
}

/** Every trainable variable registered with the engine (what `minimize` trains without a list). */
export function trainableVariables(): tf.Variable[] {
  return Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
}
