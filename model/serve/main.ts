import { z } from 'zod';
import { startInferenceServer } from './server.ts';

/**
 * The `serve` entry: in the container (SageMaker runs `docker run image serve`) it listens on
 * 0.0.0.0:8080 and loads /opt/ml/model; locally (`npm run model:serve`) PORT, HOST and MODEL_DIR
 * override, with the shipped default artifact and loopback as defaults.
 */
const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  MODEL_DIR: z.string().min(1).optional(),
});

const parsed = Env.safeParse(process.env);
if (!parsed.success) {
  console.error(
    `model server: bad environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
  );
  process.exit(2);
}
const env = parsed.data;
try {
  const server = await startInferenceServer({
    port: env.PORT,
    host: env.HOST,
    ...(env.MODEL_DIR ? { modelDir: env.MODEL_DIR } : {}),
  });
  console.log(JSON.stringify({ level: 'info', msg: 'model server ready', url: server.url }));
  const stop = () => {
    server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`model server: ${(error as Error).message}`);
  process.exit(1);
}
