// Plain-text tables for people: columns padded to their widest cell.
export function formatTable(header: string[], rows: string[][], opts: { right?: number[] } = {}): string {
  if (rows.length === 0) return '  (none)';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    '  ' +
    cells
      .map((c, i) => (opts.right?.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
