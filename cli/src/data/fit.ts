/** A user's data checked against the model it is to train: sample size and label range. */
import { DataFormatError, type ImageDataset } from 'tfjs-sam/data';
import type { LoadedData } from './types.js';

export interface ModelFit {
  /** One sample's shape as the model takes it (without the batch dimension). */
  inputShape: readonly number[];
  /** The model's outputs: labels must be below it. */
  classes: number;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The loaded data with the model's class count, after checking that each sample has as many
 * values as the model's input (the trainer reshapes them to it) and each label is an output.
 */
export function fitToModel(loaded: LoadedData, fit: ModelFit, flag: string): ImageDataset {
  const { dataset } = loaded;
  const values = size(dataset.shape);
  const wanted = size(fit.inputShape);
  if (values !== wanted) {
    const sample = dataset.shape.filter((dim, i) => dim !== 1 || i === 2).join('×');
    throw new DataFormatError(
      loaded.source,
      `${flag}: each sample has ${values} values (${sample}), but the model's input is [${fit.inputShape.join(', ')}] (${wanted} values). Give data with ${wanted} values per sample (feature columns, or pixels × channels), or a model whose input takes ${values}.`,
    );
  }
  for (let i = 0; i < dataset.count; i++) {
    const label = dataset.labels[i] as number;
    if (label >= fit.classes) {
      const name = dataset.classNames?.[label];
      throw new DataFormatError(
        loaded.where(i),
        `${flag}: label ${label}${name === undefined ? '' : ` ('${name}')`} is outside the model's ${fit.classes} outputs (classes 0..${fit.classes - 1}). Give the model ${label + 1} or more output units, or relabel the data.`,
      );
    }
  }
  const names = dataset.classNames;
  return {
    ...dataset,
    classes: fit.classes,
    ...(names === undefined
      ? {}
      : {
          classNames: Array.from(
            { length: fit.classes },
            (_, k) => names[k] ?? `(output ${k}, no data)`,
          ),
        }),
  };
}
