/**
 * SAM-ON (Mueller et al., NeurIPS 2023, "Normalization Layers Are All That Sharpness-Aware
 * Minimization Needs"): perturb only the normalization layers' scale and offset, with the norm
 * taken over those variables only; every variable is still updated with the gradient at w + ε.
 * As the official code (mueller-mp/SAM-ON): ρ 0.5, 1e-16 added to the norm; `adaptive` is ASAM-ON
 * (T = |w| + η on the scale, on the offset too with `adaptiveScope: 'all'`, its normalize_bias;
 * `adaptiveScaling: 'layerwise'` and `ascentNorm: 'linf'` are its layer-wise and ∞-norm forms).
 *
 * Which variables: with the model known (`useModel(model)`, which the trainer calls), the
 * trainable variables of its normalization layers, found by class; otherwise the variables named
 * as tfjs-layers' normalization layers name their weights (`…/gamma`, `…/beta`), whatever the
 * layer is called. `variablePattern` overrides both; with the model known, a normalization layer
 * the pattern leaves out is an error that names it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { SAM, type SamOptions } from '../core/sam.js';
import { SAM_OPTIONS } from '../core/sam-options.js';
import type { MethodDefinition, ModelAware } from '../core/method.js';
import { referenceFlag, referenceNumber, requiredReferenceNumber } from '../core/reference.js';
import { textOption, withDefaults, type SchemaOf } from '../util/options.js';

/** The weights tfjs-layers' normalization layers create: scale `gamma`, offset `beta`. */
export const NORMALIZATION_WEIGHT_PATTERN = '(^|/)(gamma|beta)(_\\d+)?$';

/** The layer classes whose trainable variables SAM-ON perturbs. */
export const NORMALIZATION_LAYER_CLASSES: readonly string[] = [
  'BatchNormalization',
  'LayerNormalization',
  'GroupNormalization',
  'LayerNorm',
];

export interface SamOnOptions extends SamOptions {
  /**
   * Regular expression (case-insensitive) on variable names selecting what is perturbed, instead
   * of the normalization layers (default: none, the layers).
   */
  variablePattern?: string | null;
}

export const SAMON_OPTIONS = {
  ...withDefaults(SAM_OPTIONS, { rho: 0.5, epsilon: 1e-16 }),
  variablePattern: textOption({
    default: null,
    check: (text) => {
      try {
        new RegExp(text, 'i');
        return null;
      } catch (error) {
        return `a valid regular expression (${(error as Error).message})`;
      }
    },
    doc: 'regular expression on variable names: the perturbed ones, instead of the normalization layers',
  }),
} satisfies SchemaOf<SamOnOptions>;

export class SAMON extends SAM implements ModelAware {
  static override get className(): string {
    return 'SAMON';
  }

  /** The pattern in use: the one given, or the names of normalization weights. */
  readonly variablePattern: string;
  private readonly patternGiven: boolean;
  private readonly matcher: RegExp;
  /** Names of the model's normalization variables, once the model is known. */
  private normalizationVariables: Set<string> | null = null;

  constructor(base: tf.Optimizer, options: SamOnOptions = {}) {
    super(base, options, SAMON_OPTIONS);
    const given = this.options<SamOnOptions>().variablePattern;
    this.patternGiven = given !== null;
    this.variablePattern = given ?? NORMALIZATION_WEIGHT_PATTERN;
    this.matcher = new RegExp(this.variablePattern, 'i');
  }

  /**
   * Perturbs the trainable variables of `model`'s normalization layers (by class). With a
   * `variablePattern`, checks that it covers them all; a layer it leaves out is an error.
   */
  useModel(model: tfl.LayersModel): void {
    const layers = allLayers(model).filter((layer) =>
      NORMALIZATION_LAYER_CLASSES.includes(layer.getClassName()),
    );
    const names = new Set(layers.flatMap((layer) => layer.trainableWeights.map((w) => w.name)));
    if (this.patternGiven) {
      const missed = layers.filter((layer) =>
        layer.trainableWeights.some((w) => !this.matcher.test(w.name)),
      );
      if (missed.length > 0) {
        throw new Error(
          `SAMON: variablePattern /${this.variablePattern}/i leaves out the normalization layer${missed.length > 1 ? 's' : ''} ${missed.map((l) => `'${l.name}' (${l.getClassName()})`).join(', ')} of the model. ` +
            'Widen the pattern to cover their variables, or leave variablePattern out: SAM-ON then perturbs every normalization layer.',
        );
      }
      return;
    }
    this.normalizationVariables = names;
  }

  protected override perturbedMask(variables: readonly { name: string }[]): boolean[] {
    const known = this.normalizationVariables;
    return variables.map((v) => (known !== null ? known.has(v.name) : this.matcher.test(v.name)));
  }

  override noPerturbedVariables(
    variables: readonly { name: string }[],
    of: 'step' | 'model',
  ): string {
    const advice =
      'SAM-ON perturbs normalization layers only: add BatchNormalization/LayerNormalization layers, or pass a variablePattern that selects the variables to perturb.';
    if (this.normalizationVariables !== null) {
      return `the model has no normalization layer (${NORMALIZATION_LAYER_CLASSES.join(', ')}) among its ${variables.length} trained variables. ${advice}`;
    }
    if (of === 'model') {
      return `none of the model's ${variables.length} trainable variables matches SAMON's variablePattern /${this.variablePattern}/i. ${advice}`;
    }
    const examples = variables
      .slice(0, 3)
      .map((v) => `'${v.name}'`)
      .join(', ');
    return `none of the ${variables.length} trained variables (${examples}${variables.length > 3 ? ', …' : ''}) matches variablePattern /${this.variablePattern}/i. ${advice}`;
  }

  /**
   * A given pattern is stored hex-encoded (UTF-8): tfjs-layers camel-cases every string of a
   * loaded training config (`a_b` → `aB`), which would change a regular expression.
   */
  override getConfig(): tf.serialization.ConfigDict {
    const { variablePattern, ...rest } = super.getConfig();
    return typeof variablePattern === 'string'
      ? { ...rest, variablePatternHex: toHex(variablePattern) }
      : rest;
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

/** The layers of `model`, those of nested models included. */
function allLayers(model: { layers: tfl.layers.Layer[] }): tfl.layers.Layer[] {
  return model.layers.flatMap((layer) => {
    const nested = (layer as unknown as { layers?: tfl.layers.Layer[] }).layers;
    return Array.isArray(nested) ? [layer, ...allLayers({ layers: nested })] : [layer];
  });
}

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
  // SAM_ON, or ASAM_ON with p = 2, elementwise (normalize_bias: the offset scaled too).
  replay: (c) => ({
    options: {
      rho: requiredReferenceNumber(c, 'rho'),
      adaptive: referenceFlag(c, 'adaptive'),
      eta: referenceNumber(c, 'eta'),
      ...(referenceFlag(c, 'normalizeBias') === true ? { adaptiveScope: 'all' } : {}),
    },
  }),
};
