import type { Response } from 'express';
import type { AppError } from '../core/errors.ts';

/** The success envelope: {success, statusCode, ...extra, data}. */
export function okBody(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { success: true, statusCode: 200, ...extra, data };
}

export function sendOk(res: Response, data: unknown, extra: Record<string, unknown> = {}): void {
  res.status(200).json(okBody(data, extra));
}

export interface ErrorBody {
  success: false;
  statusCode: number;
  errors: { type: string; message: string }[];
}

export function errorBody(err: Pick<AppError, 'status' | 'type' | 'message'>): ErrorBody {
  return { success: false, statusCode: err.status, errors: [{ type: err.type, message: err.message }] };
}
