/**
 * The API under test, as deployed minus the process manager: `node dist/src/server.js` (or tsx on src/
 * when no build is current) as a child process (so its peak RSS is its own), authenticated with a key pair made for this run.
 */
import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { signToken } from '../src/auth/dev-keys.ts';
import { TOPICS } from '../src/db/tables.ts';
import { freePort, spawnChild, waitForHttp, type Child, type Resources } from './processes.ts';

export const BENCH_USER = 'bench';
export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/** The key pair, access.json and bearer token every HTTP stage uses. */
export interface Credentials {
  readonly keysFile: string;
  readonly accessFile: string;
  readonly authorization: string;
}

export async function createCredentials(resources: Resources): Promise<Credentials> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-bench-auth-'));
  resources.add(
    `remove ${dir}`,
    () => rm(dir, { recursive: true, force: true }),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keysFile = path.join(dir, 'public-keys.json');
  const accessFile = path.join(dir, 'access.json');
  // The upstream key format and an unconstrained grant on every topic.
  await writeFile(keysFile, JSON.stringify({ keys: [{ key: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') }] }));
  await writeFile(accessFile, JSON.stringify(Object.fromEntries(Object.keys(TOPICS).map((t) => [t, [BENCH_USER]]))));
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // Long enough for a 10M run; the token never leaves this machine.
  const token = signToken(pem, BENCH_USER, { ttlSeconds: 24 * 3600 });
  return { keysFile, accessFile, authorization: `Bearer ${token}` };
}

/** The environment of the API process and of the Lambda cold-start processes. */
export function apiEnv(databaseUrl: string, credentials: Credentials, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    TOKEN_PUBLIC_KEYS_URL: credentials.keysFile,
    ACCESS_CONFIG: credentials.accessFile,
    LOG_LEVEL: 'warn',
    // /metrics off the fixed default port (9465), which another server here may hold.
    METRICS_PORT: '0',
    // The benchmark measures capacity with one user on many connections, not fairness between users:
    // admission control's budget (429 past it) and the per-user bound on requests under way are
    // opened wide, as for the chaos stages that are not about them.
    ADMISSION_USER_MAX: '1000',
    ADMISSION_GLOBAL_MAX: '1000',
    INFLIGHT_USER_MAX: '0',
    ...extra,
  };
}

export interface ApiServer {
  readonly child: Child;
  readonly baseUrl: string;
  /** Status of the first /health answer (200, or 503 when e.g. a view counts as stale). */
  readonly healthStatus: number;
}

/**
 * V8 flags of the API process, as README's deploy section runs it. Node 22+ sizes the young
 * generation by the machine's memory; on this 24 GiB machine that raised the API's peak RSS under
 * load from ~191 MiB (Node 20) to 266-289 MiB, while a semi-space of 8 MB keeps it at 172-208 MiB
 * with the same req/s (docs/BENCHMARKS.md, 2026-11-30).
 */
const API_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** The node arguments of the API process (the report shows them as its command). */
export function apiArgs(entry: 'dist' | 'tsx'): string[] {
  return [...API_NODE_FLAGS, ...(entry === 'dist' ? ['dist/src/server.js'] : ['--import', 'tsx', 'src/server.ts'])];
}

/**
 * `dist`: the built server, as production runs it (no TypeScript loader in memory or on the
 * request path); `tsx`: straight from src/, when no current build exists (smoke runs).
 */
export async function startApi(
  resources: Resources,
  databaseUrl: string,
  credentials: Credentials,
  entry: 'dist' | 'tsx',
  env: Record<string, string> = {},
): Promise<ApiServer> {
  const port = await freePort();
  const child = spawnChild(
    resources,
    'API server',
    process.execPath,
    apiArgs(entry),
    { env: apiEnv(databaseUrl, credentials, { PORT: String(port), DB_POOL_MAX: '16', ...env }), cwd: REPO_ROOT },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const healthStatus = await waitForHttp(`${baseUrl}/health`, child);
  return { child, baseUrl, healthStatus };
}

export interface Answer {
  readonly status: number;
  /** Length of the response body as sent (UTF-8 bytes, before any decoding). */
  readonly bytes: number;
  readonly json: unknown;
  readonly ms: number;
}

/**
 * One request, its body kept whole: the stages need both its size and its content. A network
 * failure is retried once: between stages the pooled keep-alive socket can be closed by the server
 * just as it is reused, and every request here only reads.
 */
export async function request(url: string, authorization: string, body?: unknown): Promise<Answer> {
  const init: RequestInit = {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
  let t = performance.now();
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch {
    t = performance.now();
    res = await fetch(url, init);
  }
  const buf = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t;
  return { status: res.status, bytes: buf.length, json: JSON.parse(buf.toString('utf8')) as unknown, ms };
}
