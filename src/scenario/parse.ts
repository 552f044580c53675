// Reading a scenario file: YAML (a superset of JSON) checked against SCENARIO_SCHEMA, with
// errors that name the file, the place in it and the problem.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { SCENARIO_SCHEMA } from './schema.js';
import type { Scenario } from './types.js';

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
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
    const problems = (validate.errors ?? []).slice(0, 5).map((err) => {
      const path = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
      const extra = err.keyword === 'additionalProperties' ? ` '${(err.params as { additionalProperty: string }).additionalProperty}'` : '';
      const allowed = err.keyword === 'enum' ? ` (${(err.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
      return `${path}: ${err.message}${extra}${allowed}`;
    });
    throw new ScenarioError(`${source}: ${problems.join('; ')}`);
  }
  return value as Scenario;
}
