/**
 * Stage 7, the Lambda cold start: the built handler (`npm run build` -> dist/lambda/index.mjs, the esbuild bundle that is deployed) imported
 * in a fresh `node` process that answers one API Gateway v2 event. Timed inside the child (process
 * start to answer) and from the parent (spawn to answer); medians over several processes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { apiEnv, REPO_ROOT, type Credentials } from './api.ts';
import { spawnChild, type Resources } from './processes.ts';
import { median, round } from './stats.ts';

export const HANDLER = path.join(REPO_ROOT, 'dist/lambda/index.mjs');
const CHILD_SCRIPT = path.join(REPO_ROOT, 'bench/lambda-cold-start.mjs');

export interface ColdStart {
  readonly event: string;
  readonly statusCode: number | null;
  readonly bodyBytes: number;
  /** Medians: process start -> handler imported, process start -> answer (inside the child), spawn -> answer (parent). */
  readonly importMs: number;
  readonly answerMs: number;
  readonly wallMs: number;
  readonly samples: readonly { readonly importMs: number; readonly answerMs: number; readonly wallMs: number }[];
}

export type LambdaResult =
  | { readonly status: 'measured'; readonly build: BuildState; readonly events: readonly ColdStart[] }
  | { readonly status: 'skipped' | 'failed'; readonly build: BuildState; readonly reason: string };

export interface BuildState {
  /** 'fresh': dist was newer than src; 'built': this run built it; 'stale': used as found (smoke mode). */
  readonly dist: 'fresh' | 'built' | 'stale' | 'missing' | 'build failed';
  readonly buildMs?: number;
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

function npmBuild(): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (c: Buffer) => (output = (output + c.toString('utf8')).slice(-8_192));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => resolve({ ok: false, output: err.message }));
    child.on('exit', (code) => resolve({ ok: code === 0, output }));
  });
}

/** Makes sure dist is current: builds when it is missing or older than src/ or migrations/ (not in smoke mode). */
export async function ensureBuild(smoke: boolean, log: (line: string) => void): Promise<BuildState & { reason?: string }> {
  // The API entry (dist/src/server.js) and the Lambda bundle are built together; half a build is none.
  const present = existsSync(HANDLER) && existsSync(path.join(REPO_ROOT, 'dist/src/server.js'));
  const stale = present && (await stat(HANDLER)).mtimeMs < Math.max(await newestMtime(path.join(REPO_ROOT, 'src')), await newestMtime(path.join(REPO_ROOT, 'migrations')));
  if (present && !stale) return { dist: 'fresh' };
  if (smoke) return present ? { dist: 'stale' } : { dist: 'missing', reason: 'dist/lambda/index.mjs is missing and smoke mode does not build' };
  log('  npm run build (dist is missing or older than src)');
  const t = performance.now();
  const built = await npmBuild();
  const buildMs = round(performance.now() - t);
  if (!built.ok || !existsSync(HANDLER)) return { dist: 'build failed', buildMs, reason: `npm run build failed:\n${built.output}` };
  return { dist: 'built', buildMs };
}

interface ChildLine {
  readonly importedMs?: number;
  readonly answeredMs?: number;
  readonly statusCode?: number | null;
  readonly bodyBytes?: number;
  readonly error?: string;
}

/** One fresh process answering one event; resolves when its result line arrives. */
async function coldStartOnce(resources: Resources, env: NodeJS.ProcessEnv, event: unknown): Promise<ChildLine & { wallMs: number }> {
  const t0 = performance.now();
  const child = spawnChild(resources, 'lambda cold start', process.execPath, [CHILD_SCRIPT, HANDLER], {
    env: { ...env, BENCH_LAMBDA_EVENT: JSON.stringify(event) },
    cwd: REPO_ROOT,
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      // The handler's own log lines (pino, on stdout as on Lambda) come first; the result is marked.
      child.process.stdout!.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith('{"coldStart":true')) resolve(line);
        }
      });
      child.process.once('exit', () => setTimeout(() => reject(new Error(`cold-start process exited without a result:\n${child.output()}`)), 50));
    });
    const wallMs = performance.now() - t0;
    const parsed = JSON.parse(line) as ChildLine;
    if (parsed.error) throw new Error(`cold-start process failed: ${parsed.error}`);
    return { ...parsed, wallMs };
  } finally {
    await child.stop();
  }
}

/** An API Gateway HTTP API (payload 2.0) event, as Lambda would deliver it. */
export function gatewayEvent(method: 'GET' | 'POST', rawPath: string, headers: Record<string, string>, body?: string): unknown {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { host: 'eventstats.bench', 'user-agent': 'eventstats-bench', ...headers },
    requestContext: {
      accountId: 'bench',
      apiId: 'bench',
      domainName: 'eventstats.bench',
      domainPrefix: 'eventstats',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'eventstats-bench' },
      requestId: `bench-${now}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  };
}

export async function benchLambda(
  resources: Resources,
  ctx: {
    build: BuildState & { reason?: string };
    databaseUrl: string;
    credentials: Credentials;
    runs: number;
    /** The compiled request to answer cold: path and JSON body. */
    query: { path: string; body: string };
  },
): Promise<LambdaResult> {
  const { reason, ...build } = ctx.build;
  if (build.dist === 'missing') return { status: 'skipped', build, reason: reason ?? 'no build' };
  if (build.dist === 'build failed') return { status: 'failed', build, reason: reason ?? 'build failed' };
  const env = apiEnv(ctx.databaseUrl, ctx.credentials);
  const events = [
    { name: 'GET /health', event: gatewayEvent('GET', '/health', {}) },
    {
      name: `POST ${ctx.query.path}`,
      event: gatewayEvent('POST', ctx.query.path, { authorization: ctx.credentials.authorization, 'content-type': 'application/json' }, ctx.query.body),
    },
  ];
  const out: ColdStart[] = [];
  for (const e of events) {
    const samples: { importMs: number; answerMs: number; wallMs: number; statusCode: number | null; bodyBytes: number }[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      const r = await coldStartOnce(resources, env, e.event);
      samples.push({ importMs: round(r.importedMs ?? NaN), answerMs: round(r.answeredMs ?? NaN), wallMs: round(r.wallMs), statusCode: r.statusCode ?? null, bodyBytes: r.bodyBytes ?? 0 });
    }
    out.push({
      event: e.name,
      statusCode: samples.at(-1)?.statusCode ?? null,
      bodyBytes: samples.at(-1)?.bodyBytes ?? 0,
      importMs: round(median(samples.map((s) => s.importMs))),
      answerMs: round(median(samples.map((s) => s.answerMs))),
      wallMs: round(median(samples.map((s) => s.wallMs))),
      samples: samples.map(({ importMs, answerMs, wallMs }) => ({ importMs, answerMs, wallMs })),
    });
  }
  return { status: 'measured', build, events: out };
}
