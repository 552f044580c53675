// Reader for the bpf_conformance `.data` test format (used by fixtures/isa/*.data):
//
//   # what is tested (comments before the first section)
//   -- asm
//   mov32 %r0, 0
//   exit
//   -- mem
//   00 01 02 03
//   -- result
//   0x0
//
// `-- error` (instead of or besides `-- result`) names the expected fault code or a substring of
// the expected validation error. Other sections (bpf_conformance has e.g. `-- raw`, `-- map`) are
// kept verbatim in `sections`. Browser-safe: no Node APIs.

export interface ConformanceTest {
  /** The program text, for assemble(). */
  asm: string;
  /** Initial memory (r1 points at it, r2 holds its length); empty when the test has no `-- mem`. */
  mem: Uint8Array;
  /** Expected r0 as an unsigned 64-bit value. */
  result?: bigint;
  /** Expected fault code (`read_oob`, `budget`, ...) or validation error substring. */
  error?: string;
  /** The `#` comment lines before the first section, without the `#`. */
  comments: string[];
  /** Every section's raw text by name (`asm`, `mem`, `result`, `error`, ...). */
  sections: Record<string, string>;
}

/** Parses one `.data` file; throws an Error naming the line for malformed memory or results. */
export function parseConformanceTest(text: string): ConformanceTest {
  const comments: string[] = [];
  const sections: Record<string, string[]> = {};
  const sectionLine: Record<string, number> = {};
  let current: string | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    const header = /^--\s*(.+?)\s*$/.exec(line);
    if (header) {
      current = header[1];
      if (sections[current]) throw new Error(`line ${i + 1}: section '-- ${current}' appears twice`);
      sections[current] = [];
      sectionLine[current] = i + 2;
    } else if (current === undefined) {
      const comment = /^\s*#\s?(.*)$/.exec(line);
      if (comment) comments.push(comment[1]);
      else if (line.trim() !== '') throw new Error(`line ${i + 1}: text before the first '-- section': '${line.trim()}'`);
    } else {
      sections[current].push(line);
    }
  });
  if (!sections.asm) throw new Error("no '-- asm' section");
  const joined: Record<string, string> = {};
  for (const [name, lines] of Object.entries(sections)) joined[name] = lines.join('\n');

  const test: ConformanceTest = {
    asm: joined.asm,
    mem: sections.mem ? parseHexBytes(sections.mem, sectionLine.mem) : new Uint8Array(0),
    comments,
    sections: joined,
  };
  if (sections.result) test.result = parseResult(sections.result, sectionLine.result);
  if (sections.error) {
    const error = withoutComments(sections.error).join(' ').trim();
    if (error === '') throw new Error(`line ${sectionLine.error}: '-- error' section is empty`);
    test.error = error;
  }
  return test;
}

const withoutComments = (lines: string[]): string[] => lines.map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l !== '');

function parseHexBytes(lines: string[], firstLine: number): Uint8Array {
  const bytes: number[] = [];
  lines.forEach((raw, i) => {
    for (const token of raw.replace(/#.*$/, '').split(/\s+/).filter(Boolean)) {
      if (!/^[0-9a-fA-F]{2}$/.test(token)) throw new Error(`line ${firstLine + i}: '${token}' is not a hex byte`);
      bytes.push(parseInt(token, 16));
    }
  });
  return new Uint8Array(bytes);
}

function parseResult(lines: string[], firstLine: number): bigint {
  const values = withoutComments(lines);
  if (values.length !== 1) throw new Error(`line ${firstLine}: '-- result' must hold exactly one number`);
  const m = /^(-?)(0x[0-9a-fA-F]+|\d+)$/.exec(values[0]);
  if (!m) throw new Error(`line ${firstLine}: result '${values[0]}' is not a number`);
  const magnitude = BigInt(m[2]);
  return BigInt.asUintN(64, m[1] === '-' ? -magnitude : magnitude);
}
