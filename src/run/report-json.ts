// The JSON form of a run's report, as `bpfbed run --json` prints it and `--out` writes
// report.json: bigints as decimal strings, byte arrays as arrays of numbers (JSON has neither).
// Browser-safe, so the playground's "download report" gives the same file as the CLI.

/** JSON.stringify replacer for reports: bigint -> decimal string, Uint8Array -> number[]. */
export const reportJsonReplacer = (_: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? [...v] : v);

/**
 * A report (a packet run's RunReport, a socket scenario's SocketRunReport) as `bpfbed run --json`
 * prints it, without the trailing newline console.log adds.
 */
export function reportJson(report: object): string {
  return JSON.stringify(report, reportJsonReplacer, 2);
}
