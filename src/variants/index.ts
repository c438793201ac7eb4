/** The SAM family: each file states only its difference from SAM (src/core/sam.ts). */
export { GSAM, gsam } from './gsam.js';
export type { GsamOptions } from './gsam.js';
export { WSAM, wsam } from './wsam.js';
export type { WsamOptions } from './wsam.js';
export { LookSAM, looksam } from './looksam.js';
export type { LookSamOptions, LookSamProjection } from './looksam.js';
export { FSAM, fsam } from './fsam.js';
export type { FsamOptions } from './fsam.js';
export { SAMON, samOn } from './sam-on.js';
export type { SamOnOptions } from './sam-on.js';
export { MSAM, msam } from './msam.js';
export type { MsamOptions } from './msam.js';
export { XSAM, xsam } from './xsam.js';
export type { AlphaChoice, XsamOptions } from './xsam.js';
export { ESAM, esam } from './esam.js';
export type { EsamOptions, WeightMask } from './esam.js';
export { METHODS, findMethod } from './registry.js';
