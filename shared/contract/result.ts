// Every call across the boundary (IPC or HTTP) answers with a Result: thrown errors lose their code when
// Electron serialises them (only the message survives), so failures travel as plain AppError values.
import type { AppError } from '../qcow2/findings';

export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: AppError): Result<T> {
  return { ok: false, error };
}

export function invalidArgument<T = never>(message: string): Result<T> {
  return { ok: false, error: { code: 'invalid-argument', message } };
}
