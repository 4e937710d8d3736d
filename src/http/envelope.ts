import type { Response } from 'express';
import type { AppError } from '../core/errors.ts';

/** The success envelope: {success, statusCode, ...extra, data}. */
export function okBody(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { success: true, statusCode: 200, ...extra, data };
}

export function sendOk(res: Response, data: unknown, extra: Record<string, unknown> = {}): void {
  res.status(200).json(okBody(data, extra));
}

/**
 * The success envelope around data that is already JSON text (a raw page: src/raw/raw-stats.ts
 * readRawPageJson), byte for byte what sendOk(res, JSON.parse(dataJson), extra) would send.
 */
export function sendOkJson(res: Response, dataJson: string, extra: Record<string, unknown> = {}): void {
  // okBody puts data last, so its JSON ends with the placeholder's `null}`.
  const around = JSON.stringify(okBody(null, extra));
  res.status(200).type('application/json').send(`${around.slice(0, -'null}'.length)}${dataJson}}`);
}

export interface ErrorBody {
  success: false;
  statusCode: number;
  errors: { type: string; message: string }[];
}

export function errorBody(err: Pick<AppError, 'status' | 'type' | 'message'>): ErrorBody {
  return { success: false, statusCode: err.status, errors: [{ type: err.type, message: err.message }] };
}
