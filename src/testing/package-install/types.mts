// Type-checked (tsc, module nodenext) in the fresh project: `import` resolves the ES module types.
import * as tf from '@tensorflow/tfjs-core';
import { sam, type SAM } from 'tfjs-sam';
import type { TrainerOptions } from 'tfjs-sam/trainer';

export const optimizer: SAM = sam(tf.train.sgd(0.1), { rho: 0.05 });
export const epochs: TrainerOptions['epochs'] = 1;
