/**
 * SAM-ON (Mueller et al., NeurIPS 2023, "Normalization Layers Are All That Sharpness-Aware
 * Minimization Needs"): perturb only the normalization layers' scale and offset, with the norm
 * taken over those variables only; every variable is still updated with the gradient at w + ε.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions } from '../core/sam.js';
import { SAM_OPTIONS } from '../core/sam-options.js';
import type { MethodDefinition } from '../core/method.js';
import { textOption, type SchemaOf } from '../util/options.js';

/** tfjs-layers names: `batch_normalization_BatchNormalization3/gamma`, `layer_normalization_…/beta`. */
export const NORMALIZATION_VARIABLE_PATTERN = '(^|/)[^/]*normalization[^/]*/(gamma|beta)(_\\d+)?$';

export interface SamOnOptions extends SamOptions {
  /** Regular expression (case-insensitive) on variable names selecting what is perturbed. */
  variablePattern?: string;
}

export const SAMON_OPTIONS = {
  ...SAM_OPTIONS,
  variablePattern: textOption({
    default: NORMALIZATION_VARIABLE_PATTERN,
    check: (text) => {
      try {
        new RegExp(text, 'i');
        return null;
      } catch (error) {
        return `a valid regular expression (${(error as Error).message})`;
      }
    },
    doc: 'regular expression (case-insensitive) on variable names: the perturbed ones',
  }),
} satisfies SchemaOf<SamOnOptions>;

export class SAMON extends SAM {
  static override get className(): string {
    return 'SAMON';
  }

  readonly variablePattern: string;
  private readonly matcher: RegExp;

  constructor(base: tf.Optimizer, options: SamOnOptions = {}) {
    super(base, options, SAMON_OPTIONS);
    this.variablePattern = this.options<SamOnOptions>().variablePattern;
    this.matcher = new RegExp(this.variablePattern, 'i');
  }

  protected override perturbedMask(variables: readonly { name: string }[]): boolean[] {
    return variables.map((v) => this.matcher.test(v.name));
  }

  override noPerturbedVariables(
    variables: readonly { name: string }[],
    of: 'step' | 'model',
  ): string {
    if (of === 'model') {
      return (
        `none of the model's ${variables.length} trainable variables matches SAMON's variablePattern /${this.variablePattern}/i. ` +
        'SAM-ON perturbs normalization layers only: use a model with BatchNormalization/LayerNormalization layers, or another variablePattern.'
      );
    }
    const examples = variables
      .slice(0, 3)
      .map((v) => `'${v.name}'`)
      .join(', ');
    return (
      `none of the ${variables.length} trained variables (${examples}${variables.length > 3 ? ', …' : ''}) matches variablePattern /${this.variablePattern}/i. ` +
      'SAM-ON perturbs normalization layers only: add BatchNormalization/LayerNormalization layers, or pass a variablePattern that selects the variables to perturb.'
    );
  }

  /**
   * The pattern is stored hex-encoded (UTF-8): tfjs-layers camel-cases every string of a loaded
   * training config (`a_b` → `aB`), which would change a regular expression.
   */
  override getConfig(): tf.serialization.ConfigDict {
    const { variablePattern, ...rest } = super.getConfig();
    return { ...rest, variablePatternHex: toHex(variablePattern as string) };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const { variablePatternHex, ...rest } = config;
    const variablePattern =
      typeof variablePatternHex === 'string' ? fromHex(variablePatternHex) : undefined;
    return SAM.fromConfig(cls, { ...rest, variablePattern: variablePattern ?? null });
  }
}

tf.serialization.registerClass(SAMON);

function toHex(text: string): string {
  return Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}

function fromHex(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return new TextDecoder().decode(bytes);
}

export function samOn(base: tf.Optimizer, options: SamOnOptions = {}): SAMON {
  return new SAMON(base, options);
}

export const SAMON_METHOD: MethodDefinition = {
  name: 'samon',
  title: 'SAM-ON',
  summary: 'perturbs only the normalization layers (their scale and offset)',
  paper: 'Mueller et al., NeurIPS 2023',
  options: SAMON_OPTIONS,
  create: (base, options) => samOn(base, options),
  passes: () => 2,
  needsNormalizationLayers: true,
};
