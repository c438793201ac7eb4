import { FASHION_MNIST_CLASS_NAMES } from '../../src/data/class-names.js';
import { addSymmetricLabelNoise } from '../../src/data/label-noise.js';
import { createRandom, permutation, type Random } from '../../src/util/random.js';

export interface Split {
  /** Row-major features, `count × features`. */
  features: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface ClassificationData {
  id: string;
  features: number;
  classes: number;
  classNames: readonly string[];
  train: Split;
  test: Split;
  /** 2D sets draw a decision boundary over this box. */
  plane: { min: number; max: number } | null;
}

export interface DatasetEntry {
  id: string;
  label: string;
  load: () => Promise<ClassificationData>;
  hiddenUnits: number[];
  batchSize: number;
  defaultLearningRate: number;
  defaultEpochs: number;
}

function gaussian(random: Random): number {
  const u = Math.max(random.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

function twoMoons(count: number, noise: number, seed: number): Split {
  const random = createRandom(seed);
  const features = new Float32Array(count * 2);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const angle = Math.PI * random.next();
    const x = label === 0 ? Math.cos(angle) : 1 - Math.cos(angle);
    const y = label === 0 ? Math.sin(angle) : 0.5 - Math.sin(angle);
    features[i * 2] = (x - 0.5) * 1.3 + noise * gaussian(random);
    features[i * 2 + 1] = (y - 0.25) * 1.3 + noise * gaussian(random);
    labels[i] = label;
  }
  return { features, labels, count };
}

function twoSpirals(count: number, noise: number, seed: number): Split {
  const random = createRandom(seed);
  const features = new Float32Array(count * 2);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const radius = 0.15 + 1.45 * random.next();
    const angle = radius * 2.6 * Math.PI + label * Math.PI;
    features[i * 2] = radius * Math.cos(angle) + noise * gaussian(random);
    features[i * 2 + 1] = radius * Math.sin(angle) + noise * gaussian(random);
    labels[i] = label;
  }
  return { features, labels, count };
}

const FASHION_CLASSES = FASHION_MNIST_CLASS_NAMES;

async function fetchBytes(path: string): Promise<Uint8Array> {
  const response = await fetch(new URL(path, document.baseURI));
  if (!response.ok) throw new Error(`Could not load ${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function fashionSplit(split: 'train' | 'test', count: number): Promise<Split> {
  const [pixels, labels] = await Promise.all([
    fetchBytes(`data/fashion-mnist/${split}-images.bin`),
    fetchBytes(`data/fashion-mnist/${split}-labels.bin`),
  ]);
  if (pixels.length !== count * 784 || labels.length !== count) {
    throw new Error(`Fashion-MNIST ${split}: expected ${count} images of 784 bytes.`);
  }
  const features = Float32Array.from(pixels, (value) => value / 255);
  return { features, labels, count };
}

async function loadFashionMnist(): Promise<ClassificationData> {
  const response = await fetch(new URL('data/fashion-mnist/manifest.json', document.baseURI));
  const manifest = (await response.json()) as { train: number; test: number };
  const [train, test] = await Promise.all([
    fashionSplit('train', manifest.train),
    fashionSplit('test', manifest.test),
  ]);
  return {
    id: 'fashion',
    features: 784,
    classes: 10,
    classNames: FASHION_CLASSES,
    train,
    test,
    plane: null,
  };
}

export const datasetCatalog: readonly DatasetEntry[] = [
  {
    id: 'moons',
    label: 'Two moons (2D)',
    load: async () => ({
      id: 'moons',
      features: 2,
      classes: 2,
      classNames: ['upper moon', 'lower moon'],
      train: twoMoons(400, 0.12, 1),
      test: twoMoons(1000, 0.12, 2),
      plane: { min: -2.4, max: 2.4 },
    }),
    hiddenUnits: [32, 32],
    batchSize: 20,
    defaultLearningRate: 0.1,
    defaultEpochs: 30,
  },
  {
    id: 'spirals',
    label: 'Two spirals (2D)',
    load: async () => ({
      id: 'spirals',
      features: 2,
      classes: 2,
      classNames: ['spiral A', 'spiral B'],
      train: twoSpirals(400, 0.04, 3),
      test: twoSpirals(1000, 0.04, 4),
      plane: { min: -2, max: 2 },
    }),
    hiddenUnits: [64, 64],
    batchSize: 20,
    defaultLearningRate: 0.1,
    defaultEpochs: 60,
  },
  {
    id: 'fashion',
    label: 'Fashion-MNIST (2,000 images)',
    load: loadFashionMnist,
    hiddenUnits: [64],
    batchSize: 50,
    defaultLearningRate: 0.05,
    defaultEpochs: 10,
  },
];

export function findDataset(id: string): DatasetEntry {
  const entry = datasetCatalog.find((candidate) => candidate.id === id);
  if (!entry) throw new Error(`Unknown dataset "${id}"`);
  return entry;
}

/** The training split with `fraction` of its labels flipped to another class (seeded). */
export function withLabelNoise(
  data: ClassificationData,
  fraction: number,
  seed: number,
): { split: Split; flipped: Int32Array } {
  const noisy = addSymmetricLabelNoise(data.train.labels, {
    fraction,
    classes: data.classes,
    seed,
  });
  return { split: { ...data.train, labels: noisy.labels }, flipped: noisy.flippedIndices };
}

/** One epoch's batch order, the same for every optimizer being compared. */
export function epochOrder(count: number, seed: number): Int32Array {
  return permutation(count, createRandom(seed));
}
