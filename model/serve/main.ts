import { z } from 'zod';
import { envInt, failStart, readEnv, stopOnSignal } from '../../runtime/process.ts';

/**
 * The `serve` entry: in the container (SageMaker runs `docker run image serve`) it listens on
 * 0.0.0.0:8080 and loads /opt/ml/model; locally (`npm run model:serve`) PORT, HOST and MODEL_DIR
 * override, with the shipped default artifact and loopback as defaults. Exit codes: runtime/process.ts.
 */
const env = readEnv(
  'model-server',
  z.object({
    PORT: envInt(0, 65535).default(8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    MODEL_DIR: z.string().min(1).optional(),
  }),
);
// Loaded after the environment is checked: TensorFlow.js takes a while to import.
const { startInferenceServer } = await import('./server.ts');
try {
  const server = await startInferenceServer({
    port: env.PORT,
    host: env.HOST,
    ...(env.MODEL_DIR ? { modelDir: env.MODEL_DIR } : {}),
  });
  console.log(JSON.stringify({ level: 'info', msg: 'model server ready', url: server.url }));
  stopOnSignal({ name: 'model-server', graceMs: 5000, stop: () => server.close() });
} catch (error) {
  failStart('model-server', 'cannot start', { error: (error as Error).message });
}
