/** Writes one size's results: bench/results/<YYYY-MM-DD>-<size>.json and .md. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderMarkdown } from './markdown.ts';
import type { SizeResult } from './report.ts';

export async function writeResult(outDir: string, r: SizeResult): Promise<{ json: string; markdown: string }> {
  await mkdir(outDir, { recursive: true });
  const base = path.join(outDir, `${r.date}-${r.label}`);
  const json = `${base}.json`;
  const markdown = `${base}.md`;
  await writeFile(json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(markdown, renderMarkdown(r));
  return { json, markdown };
}
