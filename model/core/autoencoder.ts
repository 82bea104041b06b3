/**
 * A small dense autoencoder: trained with TensorFlow.js (pure JS CPU backend, seeded, unshuffled so
 * training is reproducible), evaluated at inference with a plain forward pass over the exported
 * weights. The forward pass is ~20 multiply-adds per weight row, so scoring needs neither tfjs
 * start-up (~1 s) nor its per-call overhead; `autoencoder.test.ts` pins it to `tf.predict`.
 */

/** The exported weights of a `input → hidden (relu) → input (linear)` autoencoder. */
export interface AutoencoderWeights {
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** Row-major `[inputSize][hiddenSize]`. */
  readonly w1: number[];
  readonly b1: number[];
  /** Row-major `[hiddenSize][inputSize]`. */
  readonly w2: number[];
  readonly b2: number[];
}

/** Training settings for {@link trainAutoencoder}. */
export interface AutoencoderTraining {
  /** Units in the bottleneck. @default 8 */
  readonly hiddenSize?: number;
  /** Passes over the data. @default 30 */
  readonly epochs?: number;
  /** Seed of the weight initialisers. @default 42 */
  readonly seed?: number;
  /** Largest number of rows used (the first ones, evenly strided). @default 4000 */
  readonly maxRows?: number;
}

/** Trains an autoencoder on `rows` (all of one width) with tfjs; returns plain weights. */
export async function trainAutoencoder(
  rows: readonly (readonly number[])[],
  options: AutoencoderTraining = {},
): Promise<AutoencoderWeights> {
  const tf = await loadTf();
  const inputSize = rows[0]?.length ?? 0;
  if (inputSize === 0) throw new Error('cannot train an autoencoder on no rows');
  const hiddenSize = options.hiddenSize ?? 8;
  const seed = options.seed ?? 42;
  const sample = strided(rows, options.maxRows ?? 4000);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [inputSize],
        units: hiddenSize,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({
        units: inputSize,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  const x = tf.tensor2d(sample as number[][]);
  await model.fit(x, x, { epochs: options.epochs ?? 30, batchSize: 64, shuffle: false, verbose: 0 });
  const [k1, bias1, k2, bias2] = model.getWeights();
  const weights: AutoencoderWeights = {
    inputSize,
    hiddenSize,
    w1: Array.from(k1!.dataSync()),
    b1: Array.from(bias1!.dataSync()),
    w2: Array.from(k2!.dataSync()),
    b2: Array.from(bias2!.dataSync()),
  };
  x.dispose();
  model.dispose();
  return weights;
}

/** Mean squared reconstruction error of one row (plain JS forward pass). */
export function reconstructionError(weights: AutoencoderWeights, row: ArrayLike<number>): number {
  const { inputSize, hiddenSize, w1, b1, w2, b2 } = weights;
  const hidden = new Float64Array(hiddenSize);
  for (let j = 0; j < hiddenSize; j++) hidden[j] = b1[j]!;
  for (let i = 0; i < inputSize; i++) {
    const v = row[i]!;
    if (v === 0) continue;
    const offset = i * hiddenSize;
    for (let j = 0; j < hiddenSize; j++) hidden[j]! += v * w1[offset + j]!;
  }
  let error = 0;
  for (let k = 0; k < inputSize; k++) {
    let out = b2[k]!;
    for (let j = 0; j < hiddenSize; j++) {
      const h = hidden[j]!;
      if (h > 0) out += h * w2[j * inputSize + k]!;
    }
    const d = out - row[k]!;
    error += d * d;
  }
  return error / inputSize;
}

/** Loads tfjs with the pure-JS CPU backend (tfjs-node cannot install here). */
export async function loadTf(): Promise<typeof import('@tensorflow/tfjs')> {
  const tf = await import('@tensorflow/tfjs');
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  await tf.ready();
  return tf;
}

function strided<T>(rows: readonly T[], max: number): T[] {
  if (rows.length <= max) return rows.slice();
  const step = rows.length / max;
  return Array.from({ length: max }, (_, i) => rows[Math.floor(i * step)]!);
}
