import { expect } from 'chai';
import { TABLES } from '../../../src/db/tables.ts';
import { jobsInsert, runsAndStatusInsert } from '../../../src/seed/batch-sql.ts';
import { RowGenerator } from '../../../src/seed/generate.ts';

const batch = new RowGenerator(1, { start: 1_700_000_000_000, end: 1_700_086_400_000 }).next(20, 20);

function placeholders(text: string): number[] {
  return [...new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
}

describe('seed batch statements', () => {
  for (const [name, q, tables] of [
    ['jobs', jobsInsert(batch), [TABLES.runsJobs]],
    ['runs and status changes', runsAndStatusInsert(batch), [TABLES.runs, TABLES.statusChange]],
  ] as const) {
    it(`binds every ${name} column as one array parameter, numbered $1..$n`, () => {
      const numbers = placeholders(q.text);
      expect(numbers).to.deep.equal(Array.from({ length: q.values.length }, (_, i) => i + 1));
      expect(q.values.every(Array.isArray)).to.equal(true);
      const lengths = new Set(q.values.map((v) => (v as unknown[]).length));
      expect(lengths.size, 'arrays of one table have one length').to.be.at.most(2);
      for (const t of tables) expect(q.text).to.contain(`INSERT INTO ${t} (`);
    });

    it(`keeps ${name} values out of the SQL text`, () => {
      const sample = [batch.runs.eventId[0], batch.jobs.catalogId[0], batch.status.jobId[0]] as string[];
      for (const v of sample) expect(q.text).to.not.contain(v);
    });
  }
});
