// A subgraph as its own process (its real main.ts), so a test can SIGKILL it and start it
// again on the same port.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { declarationOf } from '../../scripts/declarations';
import { waitFor } from './waitFor';

export interface SubgraphProcess {
  readonly url: string;
  readonly port: number;
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves once it answers /health. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A port nobody listens on now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startSubgraphProcess(name: string, env: Record<string, string>): Promise<SubgraphProcess> {
  const spec = declarationOf(name);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/graphql`;
  let child: ChildProcess | null = null;

  const start = async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, `../../subgraphs/${name}/main.ts`)], {
      env: { ...process.env, ...env, [spec.portVariable]: String(port), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child = proc;
    let exited = false;
    proc.on('exit', () => (exited = true));
    await waitFor(
      async () => {
        if (exited) throw new Error(`${name} subgraph process exited while starting`);
        try {
          return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
        } catch {
          return false;
        }
      },
      { what: `${name} subgraph process to answer /health`, timeoutMs: 60_000 },
    );
  };
  const kill = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    url,
    port,
    kill,
    restart: start,
    async stop() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
