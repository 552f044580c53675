// bpfbed inspect: what an object holds — programs, maps, global data — for people or as JSON.
import type { Command } from 'commander';
import { describeObject, type ObjectSummary } from '../../inspect.js';
import { loadObjectFile } from '../object-file.js';
import { formatTable } from '../table.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description("list an object's programs, maps and global data")
    .argument('<obj>', 'BPF object file (ELF, as clang -target bpf writes it)')
    .option('--json', 'print JSON for machines')
    .action((obj: string, opts: { json?: boolean }) => {
      const summary = describeObject(loadObjectFile(obj));
      console.log(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(obj, summary));
    });
}

function formatSummary(file: string, s: ObjectSummary): string {
  const out: string[] = [`${file}: license ${JSON.stringify(s.license)}${s.btf ? ', BTF' : ''}${s.lineInfo ? ', line info' : ''}`, ''];
  out.push(`programs (${s.programs.length})`);
  out.push(
    formatTable(
      ['name', 'section', 'type', 'attach', 'insns'],
      s.programs.map((p) => [p.name, p.section, p.type, p.attachType ?? '-', String(p.insns)]),
      { right: [4] },
    ),
  );
  const maps = s.maps.filter((m) => !m.globalData);
  out.push('', `maps (${maps.length})`);
  out.push(
    formatTable(
      ['name', 'type', 'key', 'value', 'max entries', 'flags'],
      maps.map((m) => [m.name, m.type, String(m.keySize), String(m.valueSize), String(m.maxEntries), m.flags ? '0x' + m.flags.toString(16) : '-']),
      { right: [2, 3, 4] },
    ),
  );
  const data = s.maps.filter((m) => m.globalData);
  out.push('', `global data (${data.length})`);
  out.push(
    formatTable(
      ['section', 'map', 'size', 'access'],
      data.map((m) => [m.section, m.name, String(m.valueSize), m.readonly ? 'read-only' : 'read-write']),
      { right: [2] },
    ),
  );
  return out.join('\n');
}
