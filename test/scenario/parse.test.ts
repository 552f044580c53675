import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/scenario/parse.js';
import { SCENARIO_SCHEMA } from '../../src/scenario/schema.js';

const minimal = `
object: ../obj/examples/packet_summary.o
programs:
  - { program: nodeport, attach: tc/ingress, device: eth0 }
`;

describe('scenario files', () => {
  it('reads YAML and JSON alike', () => {
    const fromYaml = parseScenario(minimal);
    const fromJson = parseScenario(JSON.stringify(fromYaml));
    expect(fromJson).toEqual(fromYaml);
    expect(fromYaml.programs[0]).toEqual({ program: 'nodeport', attach: 'tc/ingress', device: 'eth0' });
  });

  it('names the place and the problem for a value the schema refuses', () => {
    const bad = minimal.replace('tc/ingress', 'tc/sideways');
    expect(() => parseScenario(bad, 'np.yaml')).toThrow(ScenarioError);
    expect(() => parseScenario(bad, 'np.yaml')).toThrow(/np\.yaml: programs\.0\.attach: must be equal to one of the allowed values \(xdp, tc\/ingress, tc\/egress, socket\)/);
  });

  it('names an unknown field', () => {
    expect(() => parseScenario(minimal + 'expectations: {}\n', 'np.yaml')).toThrow(/\(top level\): must NOT have additional properties 'expectations'/);
  });

  it('names the line of a YAML syntax error', () => {
    expect(() => parseScenario('object: x\nprograms: [\n', 'broken.yaml')).toThrow(/broken\.yaml: line \d+, column \d+/);
  });

  it('requires the object and at least one program', () => {
    expect(() => parseScenario('programs: []\n')).toThrow(/must have required property 'object'/);
    expect(() => parseScenario('object: a.o\nprograms: []\n')).toThrow(/programs: must NOT have fewer than 1 items/);
  });

  it('publishes the schema it checks against in docs/', () => {
    const published = JSON.parse(readFileSync(join(import.meta.dirname, '../../docs/scenario.schema.json'), 'utf8'));
    expect(published).toEqual(JSON.parse(JSON.stringify(SCENARIO_SCHEMA)));
  });
});
