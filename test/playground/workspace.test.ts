import { describe, expect, it } from 'vitest';
import { resolveWorkspacePath, scenarioFilePaths, workspaceReader } from '../../src/playground/engine/workspace.js';
import { relativeTo } from '../../src/playground/engine/default-scenario.js';

describe('playground workspace paths', () => {
  it('resolves a scenario\'s paths against its folder, as the CLI does', () => {
    expect(resolveWorkspacePath('fixtures/scenarios', '../obj/kpr/nodeport.o')).toBe('fixtures/obj/kpr/nodeport.o');
    expect(resolveWorkspacePath('fixtures/scenarios', 'kpr-remote/expected/eth0.pcap')).toBe('fixtures/scenarios/kpr-remote/expected/eth0.pcap');
    expect(resolveWorkspacePath('', './a//b/./c.o')).toBe('a/b/c.o');
    expect(resolveWorkspacePath('a/b', '/c.o')).toBe('c.o');
    expect(resolveWorkspacePath('a', '../../x.o')).toBe('../x.o');
  });

  it('reads what a scenario names from the workspace, and names the missing file and the scenario', () => {
    const read = workspaceReader([{ path: 'obj/x.o', bytes: Uint8Array.of(1) }], 'scenarios/s.yaml');
    expect(read('../obj/x.o')).toEqual(Uint8Array.of(1));
    expect(() => read('../obj/y.o')).toThrow('cannot read obj/y.o (named ../obj/y.o in scenarios/s.yaml): not in the workspace (files: obj/x.o)');
  });

  it('lists every file a scenario reads', () => {
    const scenario = { object: '../obj/x.o', programs: [], input: { pcap: 'in.pcap' }, expect: { outputs: { eth0: 's/expected/eth0.pcap' } } };
    expect(scenarioFilePaths(scenario, 'sc/s.yaml')).toEqual(['obj/x.o', 'sc/in.pcap', 'sc/s/expected/eth0.pcap']);
  });

  it('writes a path relative to a folder so that resolving it gives the path back', () => {
    for (const [from, to] of [['fixtures/obj/examples', 'fixtures/examples/packets.pcap'], ['', 'a/b.pcap'], ['a/b', 'a/b/c.pcap'], ['a', 'b.pcap']]) {
      expect(resolveWorkspacePath(from, relativeTo(from, to))).toBe(to);
    }
    expect(relativeTo('fixtures/obj/examples', 'fixtures/examples/packets.pcap')).toBe('../../examples/packets.pcap');
  });
});
