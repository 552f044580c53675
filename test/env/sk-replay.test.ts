import { describe, expect, it } from 'vitest';
import answers from './sk-kernel-answers.json' with { type: 'json' };
import { emulate } from './sk-run.js';
import { type SkAnswer, skCases } from './sk-world.js';

describe('socket lookups reproduce Linux 6.18 (answers recorded by sk-kernel.test.ts)', () => {
  const byName = new Map((answers as SkAnswer[]).map((a) => [a.name, a]));
  it('has a recorded kernel answer for every case', () => {
    expect(skCases.filter((c) => !byName.has(c.name)).map((c) => c.name)).toEqual([]);
  });
  for (const c of skCases) {
    it(c.name, () => {
      expect(emulate(c)).toEqual(byName.get(c.name));
    });
  }
});
