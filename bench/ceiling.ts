/**
 * Stage 6: the ceiling servers (bench/ceiling-server.ts) under the same load as the compiled queries:
 * the bare HTTP ceiling, and with `databaseUrl` the one-statement ceiling (one `SELECT 1` a request).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './api.ts';
import type { LoadSettings } from './compiled.ts';
import { measureLoad, type LoadResult } from './load.ts';
import { freePort, spawnChild, waitForHttp, type Resources } from './processes.ts';

export interface CeilingResult {
  /** Which compiled answer the constant body copies, and its size. */
  readonly bodyOf: string;
  readonly responseBytes: number;
  readonly oneConnection: LoadResult;
  readonly concurrent: LoadResult;
}

export async function benchCeiling(
  resources: Resources,
  /** The compiled request it stands in for: the same path, headers and body, and the answer to repeat. */
  answer: { query: string; path: string; json: unknown; requestBody: string; headers: Readonly<Record<string, string>> },
  settings: LoadSettings,
  /** The one-statement ceiling: each request runs `SELECT 1` on this database first. */
  databaseUrl?: string,
): Promise<CeilingResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-bench-ceiling-'));
  const removeDir = resources.add(
    `remove ${dir}`,
    () => rm(dir, { recursive: true, force: true }),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  const bodyFile = path.join(dir, 'answer.json');
  await writeFile(bodyFile, JSON.stringify(answer.json));
  const port = await freePort();
  const child = spawnChild(resources, 'ceiling server', process.execPath, ['--import', 'tsx', 'bench/ceiling-server.ts'], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      CEILING_BODY_FILE: bodyFile,
      LOG_LEVEL: 'warn',
      ...(databaseUrl ? { CEILING_DATABASE_URL: databaseUrl } : {}),
    },
    cwd: REPO_ROOT,
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health`, child);
    const url = `${base}${answer.path}`;
    // The same request bytes as the compiled query's, so express.json parses the same body.
    const target = { url, method: 'POST' as const, headers: answer.headers, body: answer.requestBody };
    const probe = await fetch(url, { method: 'POST', body: target.body, headers: target.headers });
    const responseBytes = (await probe.arrayBuffer()).byteLength;
    const oneConnection = await measureLoad(target, 1, settings.warmupS, settings.durationS);
    const concurrent = await measureLoad(target, settings.connections, settings.warmupS, settings.durationS);
    return { bodyOf: answer.query, responseBytes, oneConnection, concurrent };
  } finally {
    await child.stop();
    await removeDir();
  }
}
