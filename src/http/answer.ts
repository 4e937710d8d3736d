/**
 * Answers as sent: a compiled query's result (JSON envelope or CSV, cacheable: src/http/caching.ts)
 * and a raw page (JSON envelope, unchanged, or CSV with the paging in headers).
 */
import type { Request, Response } from 'express';
import type { TopicName } from '../db/tables.ts';
import type { QueryResult } from '../read/execute.ts';
import type { CompiledQuery } from '../declarations/types.ts';
import { RAW_STATS_COLUMNS, type RawStatsPage, type RawStatsRequest } from '../raw/raw-stats.ts';
import { answerMaxAge, sendCacheable, weakEtag } from './caching.ts';
import { csvDisposition, fileInstant, toCsv, type CsvColumn } from './csv.ts';
import { okBody, sendOkJson } from './envelope.ts';
import type { Format } from './format.ts';
import type { RawJsonPage } from '../raw/raw-stats.ts';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const CSV_TYPE = 'text/csv; charset=utf-8';

/** The raw endpoint's paging, for CSV answers (the JSON answer keeps it in `pagination`). */
export const PAGING_HEADERS = Object.freeze({ cursor: 'X-Next-Cursor', hasMore: 'X-Has-More', limit: 'X-Limit' });

/** A query's CSV columns: its declared columns, the `<group_by keys>` one standing for the applied group_by. */
export function queryCsvColumns(query: CompiledQuery, params: Record<string, unknown>): CsvColumn[] {
  return query.columns.flatMap((c): CsvColumn[] => {
    if (c.name.startsWith('<')) return ((params.group_by as readonly string[] | undefined) ?? []).map((name) => ({ name }));
    return [c.epochMs ? { name: c.name, kind: 'epoch_ms' } : { name: c.name }];
  });
}

export interface QueryAnswer {
  readonly query: CompiledQuery;
  readonly topic: TopicName;
  readonly result: QueryResult;
  readonly format: Format;
  readonly now: number;
  /** The cron of the query's view (REFRESH_SCHEDULES or the registry's). */
  readonly cron: string;
}

export function sendQueryAnswer(req: Request, res: Response, { query, topic, result, format, now, cron }: QueryAnswer): void {
  const { meta, params, data } = result;
  if (meta.refreshed_at) res.setHeader('Last-Modified', new Date(meta.refreshed_at).toUTCString());
  const start = params.timestamp_start as number;
  const end = params.timestamp_end as number;
  const lastCycleAt = meta.source_checked_at === null ? null : Date.parse(meta.source_checked_at);
  const maxAgeSeconds = answerMaxAge({ windowEnd: end, now, cron, lastCycleAt });
  if (format === 'csv') {
    sendCacheable(req, res, {
      format,
      body: Buffer.from(toCsv(queryCsvColumns(query, params), data)),
      contentType: CSV_TYPE,
      headers: { 'Content-Disposition': csvDisposition([query.name, topic, fileInstant(start), fileInstant(end)]) },
      maxAgeSeconds,
    });
    return;
  }
  const envelope = okBody(data, { topic, query: query.name, params, meta });
  // meta.staleness_ms says how old this delivery may be (a poll answered from the process, a
  // replica's lag, the time since the last cycle): the same answer polled twice differs there only,
  // so the entity tag leaves it out and is weak, and a polling dashboard still gets its 304.
  const identity = Buffer.from(JSON.stringify(okBody(data, { topic, query: query.name, params, meta: { ...meta, staleness_ms: null } })));
  sendCacheable(req, res, { format, body: Buffer.from(JSON.stringify(envelope)), contentType: JSON_TYPE, maxAgeSeconds, etag: weakEtag(format, identity) });
}

/** A raw page as JSON: its rows come as JSON text already (src/raw/raw-stats.ts readRawPageJson). */
export function sendRawJsonPage(res: Response, page: RawJsonPage): void {
  sendOkJson(res, page.rowsJson, { pagination: page.pagination });
}

/** A raw page as CSV, the paging in headers. */
export function sendRawCsvPage(res: Response, { topic, request, page }: { topic: TopicName; request: RawStatsRequest; page: RawStatsPage }): void {
  const { cursor, has_more: hasMore, limit } = page.pagination;
  if (cursor !== null) res.setHeader(PAGING_HEADERS.cursor, String(cursor));
  res.setHeader(PAGING_HEADERS.hasMore, String(hasMore));
  res.setHeader(PAGING_HEADERS.limit, String(limit));
  const after = request.cursor === null ? [] : [`before${request.cursor}`];
  res.setHeader('Content-Disposition', csvDisposition(['raw', topic, fileInstant(request.start), fileInstant(request.end), ...after]));
  const body = Buffer.from(toCsv(RAW_STATS_COLUMNS, page.rows));
  res.status(200);
  res.setHeader('Content-Type', CSV_TYPE);
  res.setHeader('Content-Length', body.length);
  res.end(body);
}
