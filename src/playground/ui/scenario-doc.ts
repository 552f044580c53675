// The scenario YAML text is the single source of truth of the page: every editor reads the
// parsed text and writes back by editing the YAML document (the `yaml` package keeps comments
// and the layout of what it does not touch), so the textarea always shows what will run.
import { isMap, isSeq, parseDocument, type Document } from 'yaml';

export type YamlPath = (string | number)[];

/** The parsed scenario as plain data, loosely typed: the worker's parser does the checking. */
export type ScenarioData = Record<string, unknown>;

export interface ParsedScenario {
  data?: ScenarioData;
  /** 'fixtures/scenarios/x.yaml line 4, column 7: Nested mappings are not allowed...' */
  error?: string;
}

function parse(text: string): Document.Parsed {
  return parseDocument(text, { prettyErrors: true, keepSourceTokens: false });
}

function firstError(doc: Document.Parsed, where: string): string | undefined {
  const err = doc.errors[0];
  if (!err) return undefined;
  const pos = err.linePos?.[0];
  // prettyErrors appends a source excerpt after the first line; the position says where.
  const message = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return pos ? `${where} line ${pos.line}, column ${pos.col}: ${message}` : `${where}: ${message}`;
}

export function parseScenarioText(text: string, where: string): ParsedScenario {
  const doc = parse(text);
  const error = firstError(doc, where);
  if (error) return { error };
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return { data: {} };
  if (typeof data !== 'object' || Array.isArray(data)) return { error: `${where}: a scenario is a mapping (object:, programs:, ...), not ${Array.isArray(data) ? 'a list' : typeof data}` };
  return { data: data as ScenarioData };
}

/** Small collections (one map entry, one device) are written in flow style, as the bundled scenarios are. */
function flowItems(node: unknown): void {
  if (isSeq(node)) for (const item of node.items) if (isMap(item) || isSeq(item)) item.flow = true;
}

/**
 * Writes `value` at `path` of the scenario text (removes it when undefined) and returns the new
 * text. `flowList` writes a list's items in flow style. Throws when the text does not parse.
 */
export function editScenarioText(text: string, path: YamlPath, value: unknown, opts: { flowList?: boolean } = {}): string {
  const doc = parse(text);
  const error = firstError(doc, 'scenario');
  if (error) throw new Error(error);
  if (value === undefined) {
    if (doc.hasIn(path)) doc.deleteIn(path);
  } else {
    const node = doc.createNode(value);
    if (opts.flowList) flowItems(node);
    doc.setIn(path, node);
  }
  return doc.toString({ lineWidth: 0 });
}

/** Reads a value at a path of plain data. */
export function getIn(data: unknown, path: YamlPath): unknown {
  let cur = data;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}
