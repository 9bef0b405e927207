// Runs a PostgreSQL cluster of the project's own (Debian's PostgreSQL 15 binaries) for the
// catalog's system of record, for npm start, the tests and CI: initdb into an ignored folder,
// logical decoding on (wal_level=logical) for Debezium, its own port and socket folder.
//
// PostgreSQL refuses to run as root, so when this process is root the server runs as the
// `postgres` OS user (POSTGRES_OS_USER) and owns its data and socket folders; otherwise it
// runs as the current user.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort, isAlive, logTail } from './processes';

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_BIN_DIR = '/usr/lib/postgresql/15/bin';
const READY_DEADLINE_MS = 60_000;

export const DEFAULTS = {
  port: 55432,
  dataDir: path.join(ROOT, '.infra-cache', 'postgres-data'),
  /** Socket folder and server log: under .run, so nothing lands in /var/run/postgresql. */
  runDir: path.join(ROOT, '.run', 'postgres'),
} as const;

/** The superuser the project's cluster is initialised with (trust authentication on loopback only). */
export const POSTGRES_SUPERUSER = 'postgres';

export interface PostgresOptions {
  /** 0 picks a free port (a private cluster for a test). @default 55432 */
  readonly port?: number;
  /** @default .infra-cache/postgres-data, or data/ in a new temp folder with port 0 (the caller removes that folder: path.dirname(dataDir)) */
  readonly dataDir?: string;
}

export interface PostgresHandle {
  /** A URL to the cluster's `postgres` database as the superuser. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  /** True when the cluster of this dataDir already served the port. */
  readonly alreadyRunning: boolean;
  /** pg_ctl stop -m fast: every session ends, the server checkpoints and exits. */
  stop(): Promise<void>;
  /** Stops and starts the same cluster on the same port (a database restart under load). */
  restart(): Promise<void>;
}

/** The URL of `database` on the local cluster listening on `port`. */
export function localPostgresUrl(port: number = DEFAULTS.port, database = 'postgres'): string {
  return `postgresql://${POSTGRES_SUPERUSER}@127.0.0.1:${port}/${database}`;
}

function binDir(): string {
  return process.env.POSTGRES_BIN_DIR ?? DEFAULT_BIN_DIR;
}

const MISSING =
  'PostgreSQL 15 is needed for the catalog database: apt-get install postgresql-15 (binaries in /usr/lib/postgresql/15/bin, or set POSTGRES_BIN_DIR), or set CATALOG_DATABASE_URL to use an existing database';

/** The OS user the server runs as: null means this process's own user. */
function serverUser(): { uid: number; gid: number; name: string } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const name = process.env.POSTGRES_OS_USER ?? 'postgres';
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0)
    throw new Error(
      `PostgreSQL refuses to run as root and there is no OS user "${name}" to run it as: apt-get install postgresql-15 creates one (or set POSTGRES_OS_USER)`,
    );
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), name };
}

/** Runs a PostgreSQL binary as the server's user; resolves with its exit code and output. */
function runAs(cmd: string, args: string[], opts: { detached?: boolean } = {}): Promise<{ code: number; output: string }> {
  const user = serverUser();
  return new Promise((resolve) => {
    const child = spawn(path.join(binDir(), cmd), args, {
      cwd: os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.detached ?? false,
      env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => resolve({ code: -1, output: err.message }));
    child.once('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

/**
 * Where the project's own cluster lives: under the checkout (.infra-cache, .run), unless the
 * server's user cannot reach the checkout (a clone under root's 0700 home, as in some CI
 * images); then in a folder of /var/tmp named after the checkout.
 */
export function localClusterFolders(): { dataDir: string; runDir: string } {
  const user = serverUser();
  const reachable = !user || spawnSync('test', ['-x', ROOT], { uid: user.uid, gid: user.gid }).status === 0;
  if (reachable) return { dataDir: DEFAULTS.dataDir, runDir: DEFAULTS.runDir };
  const base = path.join('/var/tmp', `streamgraph-postgres-${createHash('sha1').update(ROOT).digest('hex').slice(0, 10)}`);
  return { dataDir: path.join(base, 'data'), runDir: path.join(base, 'run') };
}

/** Makes a folder the server's user owns (it writes its data, socket and log there). */
function ownedFolder(dir: string): void {
  // Parents with the usual mode (the server's user must pass through them), the folder itself private.
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const user = serverUser();
  if (user) fs.chownSync(dir, user.uid, user.gid);
}

/** Starts (or finds already running) the cluster of `dataDir` and resolves once it accepts connections. */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresHandle> {
  if (!fs.existsSync(path.join(binDir(), 'postgres'))) throw new Error(MISSING);
  const isPrivate = opts.port === 0;
  // A private cluster lives in a new temp folder: data/ (initdb wants it empty) and run/.
  const base = isPrivate && !opts.dataDir ? fs.mkdtempSync(path.join(os.tmpdir(), 'streamgraph-pg-')) : undefined;
  if (base) ownedFolder(base);
  const local = base || opts.dataDir ? undefined : localClusterFolders();
  const dataDir = path.resolve(opts.dataDir ?? (base ? path.join(base, 'data') : local!.dataDir));
  const runDir = base ? path.join(base, 'run') : local ? local.runDir : `${dataDir}-run`;
  const logFile = path.join(runDir, 'postgres.log');
  const port = isPrivate ? await freePort() : (opts.port ?? DEFAULTS.port);
  const url = localPostgresUrl(port);

  ownedFolder(runDir);
  const alreadyRunning = runningPid(dataDir) !== undefined && (await isPostgresReachable(url, 3_000));
  if (!alreadyRunning) {
    await initCluster(dataDir);
    await pgCtlStart(dataDir, runDir, logFile, port);
  }
  const handle: PostgresHandle = {
    url,
    port,
    dataDir,
    logFile,
    alreadyRunning,
    stop: () => stopPostgres(dataDir).then(() => undefined),
    async restart() {
      await stopPostgres(dataDir);
      await pgCtlStart(dataDir, runDir, logFile, port);
    },
  };
  return handle;
}

async function initCluster(dataDir: string): Promise<void> {
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  ownedFolder(dataDir);
  const { code, output } = await runAs('initdb', ['-D', dataDir, '-U', POSTGRES_SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  if (code !== 0) throw new Error(`initdb of ${dataDir} failed (exit ${code}):\n${tail(output, 8)}`);
  // What Debezium needs (logical decoding, slots and senders for one connector per test
  // namespace), and a bound on the WAL a forgotten slot may hold.
  fs.appendFileSync(
    path.join(dataDir, 'postgresql.conf'),
    [
      '',
      '# streamgraph (infra/postgres.ts)',
      'wal_level = logical',
      'max_replication_slots = 64',
      'max_wal_senders = 64',
      'max_connections = 200',
      "max_slot_wal_keep_size = '1GB'",
      'wal_sender_timeout = 30s',
      "listen_addresses = '127.0.0.1'",
      'shared_buffers = 64MB',
      '',
    ].join('\n'),
  );
}

async function pgCtlStart(dataDir: string, runDir: string, logFile: string, port: number): Promise<void> {
  fs.appendFileSync(logFile, `\n=== streamgraph: starting PostgreSQL on 127.0.0.1:${port} at ${new Date().toISOString()} ===\n`);
  const user = serverUser();
  if (user) fs.chownSync(logFile, user.uid, user.gid);
  const offset = fs.statSync(logFile).size;
  // pg_ctl daemonizes the server: it outlives this process until stopPostgres().
  const { code, output } = await runAs('pg_ctl', [
    'start',
    '-D',
    dataDir,
    '-l',
    logFile,
    '-w',
    '-t',
    String(READY_DEADLINE_MS / 1000),
    '-o',
    `-p ${port} -k ${runDir}`,
  ]);
  if (code !== 0) {
    const log = logTail(logFile, offset, 12);
    const taken = /could not bind|Address already in use/i.test(log);
    throw new Error(
      taken
        ? `PostgreSQL could not listen on 127.0.0.1:${port}: the port is taken; stop what uses it or set CATALOG_DATABASE_URL to use an existing database`
        : `PostgreSQL in ${dataDir} did not start (pg_ctl exit ${code}):\n${tail(output, 4)}\n${logFile} says:\n${log}`,
    );
  }
}

/** Stops the cluster of `dataDir` (default: the project's); true if one was running. */
export async function stopPostgres(dataDir: string = localClusterFolders().dataDir): Promise<boolean> {
  if (runningPid(dataDir) === undefined) return false;
  const { code, output } = await runAs('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']);
  if (code !== 0 && runningPid(dataDir) !== undefined) throw new Error(`pg_ctl stop of ${dataDir} failed (exit ${code}):\n${tail(output, 4)}`);
  return true;
}

/** The postmaster's pid of the cluster in `dataDir` if it runs. */
export function runningPid(dataDir: string = localClusterFolders().dataDir): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0], 10);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the database at `url` answers `SELECT 1` within timeoutMs. Never throws. */
export async function isPostgresReachable(url: string, timeoutMs: number): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates `database` on the cluster at `serverUrl` when it does not exist yet. */
export async function ensureDatabase(serverUrl: string, database: string): Promise<boolean> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount) return false;
    await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    return true;
  } catch (e) {
    // Another starter created it between the check and the CREATE.
    if ((e as { code?: string }).code === '42P04') return false;
    throw e;
  } finally {
    await client.end();
  }
}

/** Drops every replication slot whose name starts with `prefix` and is not in use; returns their names. */
export async function dropReplicationSlots(serverUrl: string, prefix: string): Promise<string[]> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const slots = await client.query<{ slot_name: string; active_pid: number | null }>(
      'SELECT slot_name, active_pid FROM pg_replication_slots WHERE starts_with(slot_name, $1)',
      [prefix],
    );
    const dropped: string[] = [];
    for (const s of slots.rows) {
      // A slot still held by a walsender (a connector stopping) is released by ending that session.
      if (s.active_pid !== null) await client.query('SELECT pg_terminate_backend($1)', [s.active_pid]);
      for (let attempt = 0; ; attempt++) {
        try {
          await client.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]);
          dropped.push(s.slot_name);
          break;
        } catch (e) {
          if (attempt >= 50 || !/is active/.test((e as Error).message)) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    return dropped;
  } finally {
    await client.end();
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
