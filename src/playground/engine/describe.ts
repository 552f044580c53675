// What an object holds, for the page's program pickers and typed map editors. Field kinds are
// read off the typed host API itself (src/typed/typed-value.ts): a zero key or value decoded the
// way Testbed#typedMap decodes it shows which fields are addresses ('0.0.0.0'), MACs, integers,
// big integers or text, so the page edits exactly what the scenario's `maps:` entries accept.
import type { Btf } from '../../btf/btf.js';
import { describeObject } from '../../inspect.js';
import { loadObject } from '../../loader/object.js';
import type { MapSpec, ObjectSpec, ProgramSpec } from '../../loader/spec.js';
import { CGROUP_SOCK_ADDR_ATTACH_POINTS } from '../../scenario/types.js';
import { decodeTyped, type TypedValue } from '../../typed/typed-value.js';
import type { FieldDescription, MapDescription, ObjectDescription, WorkspaceFile } from '../protocol.js';
import { resolveWorkspacePath } from './workspace.js';

/** Arrays longer than this are one field (kind 'array'), not one field per element. */
const MAX_EXPANDED_ARRAY = 16;

/**
 * The attach point a scenario would give this program: the CLI's rule for packet programs
 * (src/cli/commands/run.ts attachOf), and for cgroup socket address programs their libbpf
 * section name, which is the scenario's attach point (src/scenario/types.ts).
 */
export function attachOf(prog: Pick<ProgramSpec, 'type' | 'section'>): string | undefined {
  if (prog.type === 'xdp') return 'xdp';
  if (prog.type === 'socket_filter') return 'socket';
  if (prog.type === 'sched_cls' || prog.type === 'sched_act') return /egress/.test(prog.section) ? 'tc/egress' : 'tc/ingress';
  if ((CGROUP_SOCK_ADDR_ATTACH_POINTS as readonly string[]).includes(prog.section)) return prog.section;
  return undefined;
}

/** Loads `objectPath` from the workspace; the loader's errors (naming the section) pass through. */
export function loadWorkspaceObject(files: readonly WorkspaceFile[], objectPath: string): ObjectSpec {
  const wanted = resolveWorkspacePath('', objectPath);
  const file = files.find((f) => resolveWorkspacePath('', f.path) === wanted);
  if (!file) throw new Error(`cannot read ${objectPath}: not in the workspace`);
  return loadObject(file.bytes, { name: wanted.split('/').pop() });
}

export function describeSpec(spec: ObjectSpec, path: string): ObjectDescription {
  const summary = describeObject(spec);
  return {
    path,
    programs: summary.programs.map((p, i) => {
      const attach = attachOf(spec.programs[i]);
      return { name: p.name, section: p.section, type: p.type, ...(attach ? { attach } : {}), insns: p.insns };
    }),
    maps: spec.maps.map((m) => describeMap(spec.btf, m)),
    hasLineInfo: summary.lineInfo,
  };
}

export function describeWorkspaceObject(files: readonly WorkspaceFile[], objectPath: string): ObjectDescription {
  return describeSpec(loadWorkspaceObject(files, objectPath), objectPath);
}

function describeMap(btf: Btf | undefined, m: MapSpec): MapDescription {
  return {
    name: m.name,
    type: m.typeName,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    keyFields: fieldsOf(btf, m.keyTypeId, m.keySize, isArrayMap(m.typeName)),
    valueFields: fieldsOf(btf, m.valueTypeId, m.valueSize, false),
  };
}

const isArrayMap = (typeName: string) => /array|devmap$|cpumap/i.test(typeName) && !/hash/i.test(typeName);

/** The typed-form layout of a key or value: one entry per leaf field, by dotted path. */
function fieldsOf(btf: Btf | undefined, typeId: number | undefined, size: number, arrayIndex: boolean): FieldDescription[] {
  if (!btf || !typeId) {
    // Without BTF, TypedMap shows an array's u32 index as a number and anything else as hex bytes.
    if (arrayIndex && size === 4) return [{ path: '', kind: 'number', btfType: '__u32' }];
    return [{ path: '', kind: 'bytes', btfType: `${size} bytes` }];
  }
  const zero = decodeTyped(btf, typeId, new Uint8Array(btf.sizeof(typeId)));
  const out: FieldDescription[] = [];
  walk(btf, typeId, zero, '', out);
  return out;
}

function walk(btf: Btf, typeId: number, shown: TypedValue, path: string, out: FieldDescription[]): void {
  const resolved = btf.resolve(typeId);
  if (Array.isArray(shown) && resolved.kind === 'array') {
    if (shown.length > MAX_EXPANDED_ARRAY) {
      out.push({ path, kind: 'array', btfType: btf.describe(typeId) });
      return;
    }
    shown.forEach((element, i) => walk(btf, resolved.type, element, join(path, String(i)), out));
    return;
  }
  if (shown !== null && typeof shown === 'object' && !Array.isArray(shown) && (resolved.kind === 'struct' || resolved.kind === 'union')) {
    const memberTypes = new Map<string, number>();
    const collect = (structId: number) => {
      for (const member of btf.members(structId)) {
        if (member.name === '') collect(member.type); // anonymous struct/union: its fields are the outer's
        else memberTypes.set(member.name, member.type);
      }
    };
    collect(typeId);
    for (const [name, value] of Object.entries(shown)) {
      const memberType = memberTypes.get(name);
      if (memberType === undefined) continue;
      walk(btf, memberType, value, join(path, name), out);
    }
    return;
  }
  out.push({ path, kind: kindOf(shown), btfType: btf.describe(typeId) });
}

const join = (path: string, part: string) => (path ? `${path}.${part}` : part);

/** How the typed host API shows a value of this field (its zero value decoded). */
function kindOf(shown: TypedValue): string {
  if (typeof shown === 'bigint') return 'bigint';
  if (typeof shown === 'number') return 'number';
  if (typeof shown === 'boolean') return 'bool';
  if (Array.isArray(shown)) return 'array';
  if (typeof shown === 'string') {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(shown)) return 'ip4';
    if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(shown)) return 'mac';
    if (shown.includes(':')) return 'ip6';
    if (/^[0-9a-f]{2}( [0-9a-f]{2})*$/i.test(shown)) return 'bytes';
    return 'string';
  }
  return 'bytes';
}
