/** What the numbers were measured on: they mean little without the machine and the server settings. */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type pg from 'pg';

export interface Machine {
  readonly cpu: string;
  /** Logical CPUs this process may use; the client, the API and PostgreSQL all share them. */
  readonly cores: number;
  readonly memoryBytes: number;
  readonly os: string;
  readonly node: string;
  readonly postgres: string;
  /** The server settings that shape these timings most. */
  readonly postgresSettings: Readonly<Record<string, string>>;
  readonly database: 'embedded' | 'external';
}

async function cpuModel(): Promise<string> {
  try {
    const info = await readFile('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1];
    if (model) return model.trim();
  } catch {
    // not Linux: fall through to what Node reports
  }
  return os.cpus()[0]?.model.trim() ?? 'unknown';
}

const SETTINGS = ['shared_buffers', 'work_mem', 'effective_cache_size', 'max_parallel_workers_per_gather', 'jit'];

export async function describeMachine(pool: pg.Pool, database: Machine['database']): Promise<Machine> {
  const { rows } = await pool.query<{ version: string }>('SELECT version()');
  const settings = await pool.query<{ name: string; setting: string }>(
    `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name`,
    [SETTINGS],
  );
  return {
    cpu: await cpuModel(),
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: rows[0]?.version ?? 'unknown',
    postgresSettings: Object.fromEntries(settings.rows.map((r) => [r.name, r.setting])),
    database,
  };
}
