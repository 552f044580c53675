// Reading a scenario file: YAML (a superset of JSON) checked against SCENARIO_SCHEMA, with
// errors that name the file, the place in it and the problem.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { PARITY_RULES, SCENARIO_SCHEMA, SOCKET_OPERATIONS } from './schema.js';
import type { Scenario } from './types.js';

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

const ajv = new Ajv2020({ allErrors: true, strict: false, discriminator: true });
const validate = ajv.compile(SCENARIO_SCHEMA);

/** Parses and checks a scenario; `source` names the file in errors. */
export function parseScenario(text: string, source = 'scenario'): Scenario {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : 'somewhere';
    throw new ScenarioError(`${source}: ${where}: ${e.message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!validate(value)) {
    const errors = validate.errors ?? [];
    // A oneOf that no branch matched reports every branch's complaint too; its own message
    // (with what the branches are) says it better, so those are left out.
    const oneOfAt = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
    const problems = errors
      .filter((e) => !(oneOfAt.has(e.instancePath) && e.schemaPath.includes('/oneOf/')))
      // a bad property name is reported twice (its pattern, then "property name must be valid")
      .filter((e) => e.keyword !== 'propertyNames')
      .slice(0, 5)
      .map((err) => {
        const path = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
        if (err.propertyName !== undefined) return `${path}: name '${err.propertyName}' ${err.message}`;
        if (err.keyword === 'discriminator') return `${path}.rule: must be one of ${PARITY_RULES.join(', ')}`;
        if (err.keyword === 'oneOf' && /sockets\/calls\/\d+$/.test(err.instancePath)) return `${path}: must have exactly one operation (${SOCKET_OPERATIONS.join(', ')})`;
        const extra = err.keyword === 'additionalProperties' ? ` '${(err.params as { additionalProperty: string }).additionalProperty}'` : '';
        const allowed = err.keyword === 'enum' ? ` (${(err.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
        return `${path}: ${err.message}${extra}${allowed}`;
      });
    throw new ScenarioError(`${source}: ${problems.join('; ')}`);
  }
  const scenario = value as Scenario;
  checkSockets(scenario, source);
  return scenario;
}

/**
 * What the schema cannot say about socket scenarios: `sockets` goes with cgroup programs and
 * without a capture, and every call names a socket an earlier `open` made.
 */
function checkSockets(scenario: Scenario, source: string): void {
  const cgroup = scenario.programs.filter((p) => p.attach.startsWith('cgroup/'));
  if (!scenario.sockets) {
    if (cgroup.length > 0) throw new ScenarioError(`${source}: programs: ${cgroup[0].program} is attached to ${cgroup[0].attach}; cgroup hooks run in a socket scenario (add sockets:)`);
    return;
  }
  if (scenario.input) throw new ScenarioError(`${source}: a scenario has either input (packets) or sockets (socket calls), not both`);
  const packet = scenario.programs.find((p) => !p.attach.startsWith('cgroup/'));
  if (packet) throw new ScenarioError(`${source}: programs: ${packet.program} (${packet.attach}) is a packet program; a socket scenario attaches cgroup hooks only`);
  const hooks = new Set<string>();
  for (const p of scenario.programs) {
    if (hooks.has(p.attach)) throw new ScenarioError(`${source}: programs: two programs for ${p.attach}; the cgroup runs one per hook here`);
    hooks.add(p.attach);
  }
  const opened = new Set<string>();
  scenario.sockets.calls.forEach((call, i) => {
    const where = `${source}: sockets.calls.${i}`;
    if (call.open) {
      if (opened.has(call.socket)) throw new ScenarioError(`${where}: socket '${call.socket}' is opened twice`);
      opened.add(call.socket);
    } else if (!opened.has(call.socket)) {
      throw new ScenarioError(`${where}: socket '${call.socket}' is used before its open call`);
    }
  });
}
