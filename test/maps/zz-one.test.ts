import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { it } from 'vitest';
import { runLruScript } from './lru-script.js';
it('one', async () => {
  const s = readFileSync('/tmp/lru-oracle/s.txt', 'utf8');
  console.log('KERNEL', JSON.stringify(execFileSync('/tmp/lru-oracle/oracle', { input: s }).toString()));
  console.log('EMU   ', JSON.stringify(await runLruScript(s, 2)));
});
