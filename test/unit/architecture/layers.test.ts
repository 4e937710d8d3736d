/**
 * The architecture check: .dependency-cruiser.cjs, run by ./ci_local.sh over src/ and jobs/. Here it
 * runs over the real tree (no violation), and over a small tree that breaks each kind of rule on
 * purpose, so that a rule that no longer fires fails this test instead of passing quietly.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { cruise, type ICruiseOptions, type IForbiddenRuleType } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const config = require(path.join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: IForbiddenRuleType[]; options: ICruiseOptions };

async function violations(baseDir: string, tsConfig?: string): Promise<string[]> {
  const options: ICruiseOptions = {
    ...config.options,
    baseDir,
    validate: true,
    ruleSet: { forbidden: config.forbidden },
    tsConfig: tsConfig ? { fileName: tsConfig } : undefined,
  };
  const result = await cruise(['src', 'jobs'].filter((d) => d !== 'jobs' || baseDir === ROOT), options);
  const output = result.output as { summary: { violations: { from: string; to: string; rule: { name: string } }[] } };
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

describe('the architecture check (dependency-cruiser)', function () {
  this.timeout(120_000);

  it('finds no circle and no upward import in src/ and jobs/', async () => {
    expect(await violations(ROOT, path.join(ROOT, 'tsconfig.json'))).to.deep.equal([]);
  });

  it('fails on a circle, an upward import, a sideways import and an import of an entry point', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-arch-'));
    try {
      const files: Record<string, string> = {
        // db imports read (upward), read imports db (a circle through them)
        'src/db/executor.ts': "import { plan } from '../read/plan.ts';\nexport const run = () => plan;\n",
        'src/read/plan.ts': "import { run } from '../db/executor.ts';\nimport { cycle } from '../maintenance/cycle.ts';\nexport const plan = () => [run, cycle];\n",
        // maintenance imports read: a folder beside it in its layer
        'src/maintenance/cycle.ts': "export const cycle = 1;\nexport { plan } from '../read/plan.ts';\n",
        // a folder imports an entry point
        'src/http/app.ts': "export { start } from '../server.ts';\n",
        'src/server.ts': 'export const start = 1;\n',
      };
      for (const [file, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await writeFile(path.join(dir, file), text);
      }
      const found = await violations(dir);
      expect(found.some((v) => v.startsWith('no-circular: src/db/executor.ts')), found.join('\n')).to.equal(true);
      expect(found, found.join('\n')).to.include('down-only-db: src/db/executor.ts -> src/read/plan.ts');
      expect(found, found.join('\n')).to.include('no-sideways-maintenance: src/maintenance/cycle.ts -> src/read/plan.ts');
      expect(found, found.join('\n')).to.include('no-sideways-read: src/read/plan.ts -> src/maintenance/cycle.ts');
      expect(found, found.join('\n')).to.include('down-only-http: src/http/app.ts -> src/server.ts');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
