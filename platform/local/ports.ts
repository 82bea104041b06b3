import { createServer } from 'node:net';

/** Why a port cannot be used. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
  ) {
    super(
      `port ${port} (${variable}) is already in use on 127.0.0.1. Stop whatever listens there ` +
        `(e.g. \`ss -ltnp 'sport = :${port}'\`) or choose another port: ${variable}=<port> npm start`,
    );
    this.name = 'PortInUseError';
  }
}

/**
 * Binds `port` on `host` and releases it: resolves with the port actually bound (useful for port 0),
 * rejects with {@link PortInUseError} when another process holds it.
 *
 * @example
 * const free = await probePort(0, 'MODEL_PORT'); // a free port chosen by the kernel
 */
export function probePort(port: number, variable: string, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new PortInUseError(port, variable) : error,
      );
    });
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * Picks `count` distinct free loopback ports. They are free when picked; a process binding one later
 * may, rarely, find it taken by someone else, which then shows as a failed start, not a silent clash.
 */
export async function pickFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await probePort(0, 'internal port', host));
  return [...ports];
}

/** Parses a port variable: unset → `fallback`, `0` → pick a free one, else 1-65535. */
export function parsePortVariable(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new Error(`${name} must be a port number from 0 to 65535 (0 picks a free one); got '${value}'`);
  }
  return Number(value);
}
