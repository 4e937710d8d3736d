/**
 * EventStats' own processes as operators run them (`npm run worker`, `npm start` against a
 * DATABASE_URL), started by tests and by `npm run chaos`: their JSON log lines collected, their exit
 * awaited with a bound, and every one of them ended by killAllServices().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const ROOT = path.join(import.meta.dirname, '../..');
// tsx's own command line, run by the Node that runs the tests (not whichever `node` PATH finds).
const TSX = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');
// Bounds on waiting for the process, so a hung process fails with a reason rather than at a test timeout.
const STARTUP_LIMIT_MS = 60_000;
const EXIT_LIMIT_MS = 60_000;

export interface LogLine {
  readonly level: number;
  readonly time: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** The `msg` of every JSON log line so far. */
  readonly messages: string[];
  /** Every JSON log line so far. */
  readonly lines: LogLine[];
  stderr(): string;
  waitForMessage(msg: string, limitMs?: number): Promise<void>;
  /**
   * The API's base URL as its 'EventStats listening' line names it (127.0.0.1): with PORT=0 the port
   * the OS chose. Throws before that line.
   */
  listeningUrl(): string;
  /** The exit code, or a failure if the process has not exited within the limit. */
  exitCode(limitMs?: number): Promise<number | null>;
}

const running: ChildProcess[] = [];

/** Starts `node tsx <script> [args]` in the project folder with the given environment added. */
export function startService(script: 'jobs/worker.ts' | 'src/server.ts' | 'src/cli/refresh.ts', env: Record<string, string>, args: readonly string[] = []): ServiceProcess {
  // `npm run worker` runs `tsx jobs/worker.ts`; tsx relays SIGTERM to the node process it starts and
  // exits with its code. npx and npm run (npm 11) do not pass SIGTERM on, so they are left out.
  // Its own process group, so that cleanup can end tsx and node together.
  const child = spawn(process.execPath, [TSX, script, ...args], {
    cwd: ROOT,
    // Any free port for a worker's /metrics (the default, 9464, would let only one worker start at a time).
    env: { ...process.env, LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0', METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.push(child);
  const messages: string[] = [];
  const lines: LogLine[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      try {
        const line = JSON.parse(part) as LogLine;
        lines.push(line);
        messages.push(line.msg);
      } catch {
        // not a log line (the server's banner)
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    messages,
    lines,
    stderr: () => stderr,
    async waitForMessage(msg, limitMs = STARTUP_LIMIT_MS) {
      const deadline = Date.now() + limitMs;
      while (!messages.includes(msg)) {
        if (child.exitCode !== null) throw new Error(`${script} exited (${child.exitCode}) before logging '${msg}': ${stderr}`);
        if (Date.now() > deadline) throw new Error(`${script} did not log '${msg}' within ${limitMs} ms; logged: ${messages.join(' | ')}`);
        await delay(50);
      }
    },
    listeningUrl() {
      const line = lines.find((l) => l.msg === 'EventStats listening');
      if (typeof line?.url !== 'string') throw new Error(`${script} has not said where it listens; logged: ${messages.join(' | ')}`);
      return line.url.replace('//localhost:', '//127.0.0.1:');
    },
    async exitCode(limitMs = EXIT_LIMIT_MS) {
      const limit = delay(limitMs, 'limit' as const);
      const result = await Promise.race([exited, limit]);
      if (result === 'limit') throw new Error(`${script} did not exit within ${limitMs} ms; logged: ${messages.join(' | ')}`);
      return result;
    },
  };
}

/** Ends every process group started here, whether or not its first process is still there. */
export function killAllServices(): void {
  for (const child of running.splice(0)) {
    if (child.pid === undefined) continue;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the whole group has exited
    }
  }
}
