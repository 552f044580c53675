import { UsageError } from './io.js';

/** A positive whole number from the command line. */
export function parseCount(text: string, option: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${option} takes a whole number of at least 1, not '${text}'`);
  }
  return Number(text);
}
