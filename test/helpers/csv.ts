/**
 * A strict RFC 4180 reader for tests (csv-parse is not installed, and reading the answers with the
 * library that wrote them would prove little). Records end with CRLF, the last one too; a quoted
 * field may hold commas, CR, LF and doubled quotes. An unquoted empty field reads as null, a quoted
 * one as '', so the reader sees what the writer meant by each. Anything else (a bare quote inside an
 * unquoted field, text after a closing quote, a lone CR or LF outside quotes, a missing final CRLF,
 * records of different lengths) throws.
 */
export type Cell = string | null;

export function parseCsv(text: string): Cell[][] {
  const records: Cell[][] = [];
  let record: Cell[] = [];
  let i = 0;
  if (text === '') throw new Error('empty CSV: expected at least a header row');
  for (;;) {
    let cell: Cell;
    if (text[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error(`unterminated quoted field at ${i}`);
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      cell = value;
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',' && text[j] !== '\r' && text[j] !== '\n') {
        if (text[j] === '"') throw new Error(`a quote inside an unquoted field at ${j}`);
        j += 1;
      }
      cell = j === i ? null : text.slice(i, j);
      i = j;
    }
    record.push(cell);
    if (text[i] === ',') {
      i += 1;
      continue;
    }
    if (text.startsWith('\r\n', i)) {
      i += 2;
      records.push(record);
      if (records.length > 1 && record.length !== records[0]!.length) {
        throw new Error(`record ${records.length} has ${record.length} fields, the header ${records[0]!.length}`);
      }
      record = [];
      if (i === text.length) return records;
      continue;
    }
    throw new Error(i >= text.length ? 'the last record does not end with CRLF' : `unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
}

/** The CSV as objects keyed by the header row. */
export function csvObjects(text: string): { header: string[]; rows: Record<string, Cell>[] } {
  const [header, ...rest] = parseCsv(text);
  if (!header || header.some((h) => h === null)) throw new Error('the header row has an empty name');
  const names = header as string[];
  return { header: names, rows: rest.map((r) => Object.fromEntries(names.map((n, k) => [n, r[k] ?? null]))) };
}

/** The cell a JSON value should be written as: numbers as JSON writes them, null empty, objects as JSON text. */
export function expectedCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
