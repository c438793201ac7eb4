// Type-checked (tsc, module nodenext) in the fresh project: `require` resolves the CommonJS types.
import tf = require('@tensorflow/tfjs-core');
import tfjsSam = require('tfjs-sam');
import toolkit = require('tfjs-sam/toolkit');

const optimizer: tfjsSam.SAM = tfjsSam.sam(tf.train.sgd(0.1), { rho: 0.05 });
const draw: number = toolkit.createRandom(1).next();
export = { optimizer, draw };
