/**
 * A real redis-server for the Redis adapter's tests, started by the test
 * itself on 127.0.0.1 at a free port, without persistence, and killed when
 * the suite ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { describe, it } from 'vitest';

/** Where redis-server is looked for; `REDIS_SERVER_PATH` overrides the Debian location. */
export const REDIS_SERVER_PATH = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

const SKIP_MESSAGE = "redis-server not found: install it with 'sudo apt-get install -y redis-server' to run the Redis tests";

/** Whether a redis-server executable is where the tests look for it. */
export function redisAvailable(): boolean {
  try {
    accessSync(REDIS_SERVER_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` for suites that need redis-server. Without it: on CI
 * (`process.env.CI` set) the suite fails, because a suite that silently
 * skips proves nothing; on a developer's machine it is skipped with one line
 * saying how to install it.
 */
export function describeRedis(name: string, fn: () => void): void {
  if (redisAvailable()) {
    describe(name, fn);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('has redis-server to run against', () => {
        throw new Error(`${REDIS_SERVER_PATH} is missing: CI must install it (apt-get install -y redis-server) for the Redis tests`);
      });
    });
    return;
  }
  console.log(SKIP_MESSAGE);
  describe.skipIf(true)(name, fn);
}

export interface RunningRedis {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Kills the server and waits for it to exit. */
  stop(): Promise<void>;
  /**
   * Suspends the server (SIGSTOP): connections stay open and the kernel
   * still accepts new ones, but nothing is answered until `thaw` — an
   * outage as a client sees a hung or unreachable Redis.
   */
  freeze(): void;
  /** Resumes a frozen server (SIGCONT); it then answers what was sent meanwhile. */
  thaw(): void;
  /** After `stop`: starts redis-server again on the same port (empty), so clients reconnect to it. */
  restart(): Promise<void>;
}

/** A port that was free a moment ago: bound to 0 by the kernel, then closed. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawns redis-server on 127.0.0.1:`port`; resolves with it once it accepts connections, or with its output if it did not. */
async function spawnOn(port: number): Promise<ChildProcess | string> {
  const child = spawn(REDIS_SERVER_PATH, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  // Up to 10 s in 50 ms steps.
  for (let probe = 0; probe < 200 && child.exitCode === null; probe += 1) {
    if (await canConnect(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  await exited(child);
  return output;
}

/**
 * Starts redis-server on 127.0.0.1 at a free port and resolves once it
 * accepts connections. Another process may take the port between the probe
 * and the start; then the server exits and the next port is tried (3 at most).
 */
export async function startRedisServer(): Promise<RunningRedis> {
  let lastOutput = '';
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const started = await spawnOn(port);
    if (typeof started === 'string') {
      lastOutput = started;
      continue;
    }
    let child = started;
    const running: RunningRedis = {
      port,
      url: `redis://127.0.0.1:${port}`,
      stop: async () => {
        // A frozen process would not act on SIGTERM until resumed.
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        await exited(child);
      },
      freeze: () => void child.kill('SIGSTOP'),
      thaw: () => void child.kill('SIGCONT'),
      restart: async () => {
        if (child.exitCode === null && child.signalCode === null) throw new Error('restart() needs the server stopped first');
        const again = await spawnOn(port);
        if (typeof again === 'string') throw new Error(`redis-server did not start again on 127.0.0.1:${port}:\n${again}`);
        child = again;
      },
    };
    return running;
  }
  throw new Error(`redis-server did not start on 127.0.0.1:\n${lastOutput}`);
}

export type RedisConnection = ReturnType<typeof createClient>;

/** A connected node-redis v5 client: one connection, as one process of a fleet would hold. */
export async function connectRedis(url: string): Promise<RedisConnection> {
  const client = createClient({ url });
  // Without a listener node-redis rethrows connection errors as unhandled; the tests see failures through commands.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
