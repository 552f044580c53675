// The second view of where bpfbed's time per packet goes: V8's sampling profiler (the
// `node --cpu-prof` profiler, driven through node:inspector) over a pass of the capture, each
// sample put in the part of the per-packet path its stack is in. Unlike the targeted timers of
// breakdown.ts it does not perturb the run, but it knows bpfbed's function names: a renamed
// function lands in 'other' (which the report shows, so a drift is visible).
import { Session } from 'node:inspector/promises';

export interface ProfilePart {
  part: string;
  /** Share of the pass's samples. */
  share: number;
  /** The part's largest contributors (helper or function name -> share of the pass). */
  top: { name: string; share: number }[];
}

export interface ProfileShares {
  samples: number;
  intervalUs: number;
  parts: ProfilePart[];
}

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const PASS_FUNCTION = 'profiledPacketPass';

const fileOf = (url: string): string => url.split('/').slice(-2).join('/');
const isFn = (n: ProfileNode, fn: string, file?: string): boolean => n.callFrame.functionName === fn && (file === undefined || fileOf(n.callFrame.url) === file);

/** Which part of the per-packet path a stack (leaf first) is in, and the contributor within it. */
export function classify(stack: ProfileNode[]): [string, string] {
  const at = (pred: (n: ProfileNode) => boolean): number => stack.findIndex(pred);
  const named = (i: number): string => {
    // The nearest named function below (leafwards of) stack[i], else stack[i] itself.
    for (let j = i - 1; j >= 0; j--) {
      const fn = stack[j].callFrame.functionName;
      if (fn && !fn.startsWith('wasm-') && fn !== 'dispatchHelper' && fn !== 'hostHelper') return fn;
    }
    return stack[i].callFrame.functionName || '(anonymous)';
  };
  // From the wasm-to-JS trampoline on, a sample is in a helper call (Machine's hostHelper import,
  // dispatchHelper, the helper itself).
  const helper = at((n) => isFn(n, 'hostHelper', 'vm/machine.js') || isFn(n, 'dispatchHelper') || n.callFrame.functionName.startsWith('wasm-to-js'));
  if (helper >= 0) return ['(c) helper calls', named(helper)];
  const machineRun = at((n) => isFn(n, 'run', 'vm/machine.js'));
  if (machineRun >= 0) {
    const leaf = stack[0].callFrame.functionName;
    return leaf.startsWith('wasm-function') ? ['(b) instructions (wasm)', 'interpreter'] : ['(b) Machine.run entry/exit', leaf || '(anonymous)'];
  }
  const bedRun = at((n) => isFn(n, 'run', 'testbed/testbed.js'));
  if (bedRun >= 0) return ['    run bookkeeping', bedRun === 0 ? 'Testbed.run' : named(bedRun)];
  const runSkb = at((n) => isFn(n, 'runSkb'));
  if (runSkb >= 0) return ['(a) context setup + collect', runSkb === 0 ? 'runSkb' : (stack[runSkb - 1].callFrame.functionName || '(anonymous)')];
  if (at((n) => isFn(n, 'skbFromFrame')) >= 0) return ['(a) context setup + collect', 'skbFromFrame'];
  if (stack[0].callFrame.functionName === '(garbage collector)') return ['garbage collection', 'gc'];
  return ['other', stack[0].callFrame.functionName || '(anonymous)'];
}

/** The frame that marks a sample as the pass's (its name is PASS_FUNCTION). */
function profiledPacketPass(pass: () => void): void {
  pass();
}

/** Profiles `pass` (called once, inside a function the classifier recognises) and splits its samples. */
export async function profilePass(pass: () => void, intervalUs = 100): Promise<ProfileShares> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    profiledPacketPass(pass);
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    return splitProfile(profile, intervalUs);
  } finally {
    session.disconnect();
  }
}

function splitProfile(profile: Profile, intervalUs: number): ProfileShares {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const parts = new Map<string, Map<string, number>>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const stack: ProfileNode[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur)!);
    // Garbage collection samples hang off the root; count them (the pass's allocations cause them).
    const inPass = stack.some((n) => n.callFrame.functionName === PASS_FUNCTION) || stack[0].callFrame.functionName === '(garbage collector)';
    if (!inPass) return;
    const weight = profile.timeDeltas[i] ?? 0;
    total += weight;
    const [part, name] = classify(stack);
    const m = parts.get(part) ?? new Map<string, number>();
    m.set(name, (m.get(name) ?? 0) + weight);
    parts.set(part, m);
  });
  const order = ['(a) context setup + collect', '    run bookkeeping', '(b) Machine.run entry/exit', '(b) instructions (wasm)', '(c) helper calls', 'garbage collection', 'other'];
  const out: ProfilePart[] = [];
  for (const part of order) {
    const m = parts.get(part);
    if (!m) continue;
    const sum = [...m.values()].reduce((a, b) => a + b, 0);
    const top = [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([name, t]) => ({ name, share: t / total }));
    out.push({ part, share: sum / total, top });
  }
  return { samples: profile.samples.length, intervalUs, parts: out };
}
