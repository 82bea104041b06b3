import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { toErrorResponse } from '../../contracts/errors.ts';
import { createLimitedServer, httpServerLimits } from '../../runtime/http-server.ts';
import { assertBodySize } from '../../runtime/json-body.ts';
import {
  closeServer,
  envInt,
  failOnListenError,
  failStart,
  readEnv,
  stopOnSignal,
} from '../../runtime/process.ts';

/**
 * A local Lambda execution environment for one function, run as its own process (as Lambda isolates a
 * function from its caller). It serves the Lambda Runtime Interface Emulator's invoke path,
 * `POST /2015-03-31/functions/function/invocations`, so the local API Gateway calls it the way the
 * emulator is called; `GET /ping` answers 200 once the handler module is loaded.
 *
 * Environment: `PORT` (default 8080, the emulator's), `HOST` (default 127.0.0.1), `LAMBDA_HANDLER`
 * (`path/to/module.ts#export`), `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_TIMEOUT` (seconds,
 * default 10), and whatever the function itself reads. Exit codes: runtime/process.ts.
 */

const EnvSchema = z.object({
  PORT: envInt(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  LAMBDA_HANDLER: z.string().regex(/^[^#]+#[A-Za-z_$][\w$]*$/, 'must be path/to/module.ts#exportName'),
  AWS_LAMBDA_FUNCTION_NAME: z.string().min(1).default('function'),
  AWS_LAMBDA_FUNCTION_TIMEOUT: envInt(1, 900).default(10),
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: envInt(128, 10_240).default(256),
});

/** Lambda's synchronous invocation payload limit (6 MB request and response). */
const MAX_EVENT_BYTES = 6 * 1024 * 1024;

type Handler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

async function main(): Promise<void> {
  const env = readEnv('lambda-host', EnvSchema);
  const [file, exportName] = env.LAMBDA_HANDLER.split('#') as [string, string];
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(isAbsolute(file) ? file : resolve(file)).href)) as Record<
      string,
      unknown
    >;
  } catch (error) {
    failStart('lambda-host', 'cannot load the handler module', { file, error: (error as Error).message });
  }
  const handler = module[exportName];
  if (typeof handler !== 'function') {
    failStart('lambda-host', `${file} exports no function '${exportName}'`);
  }
  const timeoutMs = env.AWS_LAMBDA_FUNCTION_TIMEOUT * 1000;

  const server = createLimitedServer(httpServerLimits({ maxBodyBytes: MAX_EVENT_BYTES }), (req, res) => {
    if (req.method === 'GET' && req.url === '/ping') {
      res.writeHead(200).end();
      return;
    }
    if (req.method !== 'POST' || req.url !== INVOKE_PATH) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
      return;
    }
    void invoke(req).then(({ status, body, functionError }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (functionError) headers['x-amz-function-error'] = functionError;
      res.writeHead(status, headers).end(body);
    });
  });

  async function invoke(
    req: IncomingMessage,
  ): Promise<{ status: number; body: string; functionError?: string }> {
    let text: string;
    try {
      text = await readEvent(req);
    } catch (error) {
      // Let the caller finish sending, so it reads the 413 instead of a reset connection.
      req.resume();
      const { status, body } = toErrorResponse(error);
      return { status, body: JSON.stringify(body) };
    }
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      return { status: 400, body: '{"message":"invalid JSON event"}' };
    }
    const requestId = randomUUID();
    const deadline = Date.now() + timeoutMs;
    const context = {
      awsRequestId: requestId,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${env.AWS_LAMBDA_FUNCTION_NAME}`,
      memoryLimitInMB: String(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE),
      logGroupName: `/aws/lambda/${env.AWS_LAMBDA_FUNCTION_NAME}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        (handler as Handler)(event, context),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError()), timeoutMs);
        }),
      ]);
      return { status: 200, body: JSON.stringify(result ?? null) };
    } catch (error) {
      const err = error as Error;
      // As Lambda logs an unhandled error to the function's log stream and reports it to the caller.
      console.error(
        JSON.stringify({ level: 'error', requestId, errorType: err.name, errorMessage: err.message }),
      );
      return {
        status: 200,
        body: JSON.stringify({
          errorType: err instanceof TimeoutError ? 'Sandbox.Timedout' : err.name,
          errorMessage: err.message,
        }),
        functionError: 'Unhandled',
      };
    } finally {
      clearTimeout(timer);
    }
  }

  server.listen(env.PORT, env.HOST, () => {
    const { port } = server.address() as AddressInfo;
    console.log(
      `lambda-host: ${env.AWS_LAMBDA_FUNCTION_NAME} (${env.LAMBDA_HANDLER}) on ${env.HOST}:${port}`,
    );
  });
  failOnListenError('lambda-host', server);
  stopOnSignal({ name: 'lambda-host', graceMs: timeoutMs + 1000, stop: () => closeServer(server) });
}

/** The event's text, at most {@link MAX_EVENT_BYTES}: the declared length is checked before reading. */
async function readEvent(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared)) assertBodySize(declared, MAX_EVENT_BYTES);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length;
    // Past the limit the rest is read and dropped, so memory stays bounded and the answer arrives.
    if (bytes <= MAX_EVENT_BYTES) chunks.push(chunk as Buffer);
  }
  assertBodySize(bytes, MAX_EVENT_BYTES);
  return Buffer.concat(chunks).toString('utf8');
}

class TimeoutError extends Error {
  constructor() {
    super('Task timed out');
    this.name = 'TimeoutError';
  }
}

await main();
