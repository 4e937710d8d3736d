import { expect } from 'chai';
import { csvDisposition, csvHeader, fileInstant, toCsv, type CsvColumn } from '../../../src/http/csv.ts';
import { parseCsv } from '../../helpers/csv.ts';

const COLUMNS: CsvColumn[] = [{ name: 'name' }, { name: 'n' }, { name: 'at', kind: 'epoch_ms' }, { name: 'info', kind: 'json' }];

describe('toCsv (RFC 4180 by csv-stringify)', () => {
  it('writes a header row, each epoch-ms column followed by its ISO twin, and ends every record with CRLF', () => {
    const text = toCsv(COLUMNS, [{ name: 'a', n: 1, at: Date.UTC(2026, 10, 20, 13, 0), info: { k: [1, 'x'] } }]);
    expect(csvHeader(COLUMNS)).to.deep.equal(['name', 'n', 'at', 'at_iso', 'info']);
    expect(text).to.equal('"name","n","at","at_iso","info"\r\n"a",1,1795179600000,"2026-11-20T13:00:00.000Z","{""k"":[1,""x""]}"\r\n');
  });

  it('keeps null (empty) apart from the empty string (""), and writes no twin for a null instant', () => {
    const [, row] = parseCsv(toCsv(COLUMNS, [{ name: '', n: null, at: null, info: null }]));
    expect(row).to.deep.equal(['', null, null, null, null]);
  });

  it('writes numbers as JSON does: no grouping, no rounding, exponents kept', () => {
    const numbers = [0, -0, -5, 0.1 + 0.2, 1 / 3, 123456789012345, 1e21, 2 ** 53 + 2, 5e-324];
    const rows = parseCsv(toCsv([{ name: 'n' }], numbers.map((n) => ({ n }))));
    expect(rows.slice(1).map((r) => r[0])).to.deep.equal(numbers.map((n) => JSON.stringify(n)));
    expect(rows.slice(1).map((r) => Number(r[0]))).to.deep.equal(numbers.map((n) => (Object.is(n, -0) ? 0 : n)));
  });

  it('round-trips commas, quotes, CRLF and lone CR or LF inside values, and leaves formula-like text as it is', () => {
    const values = ['a,b', 'say "hi"', 'two\r\nlines', 'lone\nlf', 'lone\rcr', '"', ',', '=1+2', '-3', '@x', ' padded ', 'ünïcødé 😀'];
    const rows = parseCsv(toCsv([{ name: 'v' }], values.map((v) => ({ v }))));
    expect(rows.slice(1).map((r) => r[0])).to.deep.equal(values);
  });

  it('writes only the header row when there are no rows', () => {
    expect(toCsv(COLUMNS, [])).to.equal('"name","n","at","at_iso","info"\r\n');
  });

  it('leaves the twin empty for an instant no Date holds, rather than failing', () => {
    const [, row] = parseCsv(toCsv([{ name: 'at', kind: 'epoch_ms' }], [{ at: 9e15 }]));
    expect(row).to.deep.equal(['9000000000000000', null]);
  });
});

describe('csvDisposition', () => {
  it('names the file from its parts and the window, compact ISO instants', () => {
    const parts = ['failed_jobs', 'public.cps.za.runs', fileInstant(Date.UTC(2026, 10, 13, 13, 37, 21, 123)), fileInstant(Date.UTC(2026, 10, 20))];
    expect(csvDisposition(parts)).to.equal('attachment; filename="failed_jobs-public.cps.za.runs-20261113T133721.123Z-20261120T000000.000Z.csv"');
  });

  it('lets nothing but letters, digits, dot, underscore and dash into the name', () => {
    expect(csvDisposition(['a"b', '../c\\d', 'é; x=1'])).to.equal('attachment; filename="a_b-.._c_d-___x_1.csv"');
  });
});
