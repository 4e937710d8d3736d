/**
 * The system's Chromium for the browser tests (driven by puppeteer-core, which downloads nothing):
 * CHROME_PATH when set, else the first of the usual names on PATH.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export const CHROMIUM_NAMES = Object.freeze(['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']);

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The browser's path, or why there is none (the message a skipped test prints). */
export function findChromium(env: Record<string, string | undefined> = process.env): { path: string } | { missing: string } {
  const given = env.CHROME_PATH;
  if (given) return executable(given) ? { path: given } : { missing: `CHROME_PATH=${given} is not an executable file` };
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of CHROMIUM_NAMES) {
      const file = path.join(dir, name);
      if (executable(file)) return { path: file };
    }
  }
  return { missing: `no Chromium found (none of ${CHROMIUM_NAMES.join(', ')} on PATH, and CHROME_PATH unset; apt-get install chromium)` };
}
