/**
 * Rows as CSV (RFC 4180), written by csv-stringify: a header row, CRLF line ends, every record ended
 * by CRLF. Numbers are written as JSON writes them (no grouping, no rounding). Strings are always
 * quoted and null is an empty unquoted field, so null and '' stay apart; a quote inside a value is
 * doubled. An epoch-ms column is followed by its ISO-8601 twin (`bucket_start`, `bucket_start_iso`);
 * a JSON column (free-form JSON such as additional_info) holds the value's JSON text.
 *
 * Values are written as stored: a cell starting with = + - @ is not prefixed against spreadsheet
 * formula injection, because that would change the data that the CSV must round-trip.
 */
import { stringify } from 'csv-stringify/sync';
export const ISO_SUFFIX = '_iso';
/** The ISO-8601 instant of an epoch-ms value; empty for null or a value no Date holds. */
function isoOf(value) {
    if (typeof value !== 'number')
        return null;
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
/** The header row's names: each column, and after an epoch-ms column its ISO twin. */
export function csvHeader(columns) {
    return columns.flatMap((c) => (c.kind === 'epoch_ms' ? [c.name, `${c.name}${ISO_SUFFIX}`] : [c.name]));
}
export function toCsv(columns, rows) {
    const records = rows.map((row) => columns.flatMap((c) => {
        const value = row[c.name] ?? null;
        if (c.kind === 'epoch_ms')
            return [value, isoOf(value)];
        if (c.kind === 'json')
            return [value === null ? null : JSON.stringify(value)];
        return [value];
    }));
    return stringify([csvHeader(columns), ...records], {
        record_delimiter: 'windows',
        // Every string is quoted (null vs ''); and should that go, a value holding a lone \n or \r must
        // still be quoted, which csv-stringify stops doing once record_delimiter is set.
        quoted_string: true,
        quote_record_delimiter: true,
        cast: { boolean: (v) => String(v) },
    });
}
/** An instant as a file-name part: 2026-11-20T13:37:21.123Z -> 20261120T133721.123Z. */
export function fileInstant(ms) {
    return (isoOf(ms) ?? String(ms)).replaceAll(/[-:]/g, '');
}
/**
 * `attachment; filename="<parts joined by '-'>.csv"`. Only letters, digits, '.', '_' and '-' reach
 * the name (anything else becomes '_'), so the quoted string needs no escaping and names no path.
 */
export function csvDisposition(parts) {
    const name = parts.map((p) => p.replaceAll(/[^A-Za-z0-9._-]/g, '_')).join('-');
    return `attachment; filename="${name}.csv"`;
}
//# sourceMappingURL=csv.js.map