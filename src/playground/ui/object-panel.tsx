// The object: its programs with the program picked per attach point, and its maps.
import type { ObjectDescription } from '../protocol';
import { DraftInput } from './draft-input';
import { getIn, type ScenarioData, type YamlPath } from './scenario-doc';

const ATTACH_POINTS = ['xdp', 'tc/ingress', 'tc/egress'] as const;

interface Binding {
  program: string;
  attach: string;
  device?: string;
  [more: string]: unknown;
}

/** Programs that can sit at an attach point: XDP programs at xdp, tc classifiers/actions at tc. */
function fits(p: ObjectDescription['programs'][number], attach: string): boolean {
  if (attach === 'xdp') return p.type === 'xdp';
  return p.type === 'sched_cls' || p.type === 'sched_act';
}

interface Props {
  description?: ObjectDescription;
  objectPath?: string;
  data?: ScenarioData;
  onEdit: (path: YamlPath, value: unknown, opts?: { flowList?: boolean }) => void;
  traceLimit: number;
  onTraceLimit: (n: number) => void;
}

export function ObjectPanel({ description, objectPath, data, onEdit, traceLimit, onTraceLimit }: Props) {
  const raw = getIn(data, ['programs']);
  const bindings: Binding[] = Array.isArray(raw) ? (raw.filter((b) => b && typeof b === 'object') as Binding[]) : [];
  const devices = getIn(data, ['environment', 'devices']);
  const firstDevice = Array.isArray(devices) && typeof devices[0]?.name === 'string' ? (devices[0].name as string) : undefined;
  const inputDevice = getIn(data, ['input', 'device']);
  const defaultDevice = typeof inputDevice === 'string' ? inputDevice : firstDevice;

  const pick = (attach: string, program: string) => {
    const at = bindings.findIndex((b) => b.attach === attach);
    const next = [...bindings];
    if (program === '') {
      if (at >= 0) next.splice(at, 1);
    } else if (at >= 0) {
      next[at] = { ...next[at], program };
    } else {
      next.push(defaultDevice ? { program, attach, device: defaultDevice } : { program, attach });
    }
    onEdit(['programs'], next, { flowList: true });
  };

  return (
    <section class="panel" aria-labelledby="object-heading">
      <h2 id="object-heading">
        Object <span class="muted mono">{objectPath ?? '—'}</span>
      </h2>
      {description && !description.hasLineInfo && <p class="muted small">No BTF line info: traces show instructions only.</p>}
      <h3>Programs</h3>
      <ul class="programs" data-testid="programs">
        {description?.programs.map((p) => (
          <li key={p.name} data-program={p.name} class={bindings.some((b) => b.program === p.name) ? 'attached' : ''}>
            <span class="mono">{p.name}</span> <span class="muted small">{p.section} · {p.type} · {p.insns} insns</span>
          </li>
        ))}
        {!description && <li class="muted">{objectPath ? 'reading the object…' : 'no object'}</li>}
      </ul>
      <div class="pickers">
        {ATTACH_POINTS.map((attach) => {
          const current = bindings.find((b) => b.attach === attach);
          const candidates = (description?.programs ?? []).filter((p) => fits(p, attach));
          const names = new Set(candidates.map((p) => p.name));
          if (current) names.add(current.program);
          const id = `picker-${attach.replace('/', '-')}`;
          return (
            <label key={attach} class="picker" for={id}>
              <span class="mono">{attach}</span>
              <select id={id} data-testid="program-picker" data-attach={attach} value={current?.program ?? ''} onChange={(e) => pick(attach, (e.currentTarget as HTMLSelectElement).value)} disabled={!data}>
                <option value="">(none)</option>
                {[...names].map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
              {current?.device && <span class="muted small">on {current.device}</span>}
            </label>
          );
        })}
      </div>
      <h3>Maps</h3>
      <ul class="maps" data-testid="maps">
        {description?.maps.map((m) => (
          <li key={m.name} data-map={m.name}>
            <span class="mono">{m.name}</span>{' '}
            <span class="muted small">
              {m.type} · key {m.keySize} B · value {m.valueSize} B · max {m.maxEntries}
            </span>
          </li>
        ))}
      </ul>
      <label class="inline-field">
        <span>Trace entries per program run</span>
        <DraftInput
          type="number"
          min={0}
          step={256}
          data-testid="trace-limit"
          value={String(traceLimit)}
          onCommit={(text) => {
            const n = Number(text);
            if (Number.isInteger(n) && n >= 0) onTraceLimit(n);
          }}
        />
      </label>
    </section>
  );
}
