// Everything one parity run creates in the kernel, under names of its own: one bpffs folder
// (programs and maps pinned there), one cgroup v2 folder, network namespaces named with the same
// unique prefix. `dispose()` removes exactly those, in `finally` and on SIGINT/SIGTERM; nothing
// else is ever touched (no name patterns, no other runs' objects).
//
// Pins keep programs and maps alive: unpinning the folder frees them once no cgroup link or fd
// holds them, so cgroup attachments are detached before the pins go (kernel/bpf/cgroup.c: an
// attached program is held by the cgroup until detached or the cgroup is freed).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const BPFFS = '/sys/fs/bpf';
const CGROUP2 = '/sys/fs/cgroup/unified';

export class WorkspaceError extends Error {
  override name = 'WorkspaceError';
}

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command, no shell; the result whatever the status. */
export function run(cmd: string, args: readonly string[], opts: { input?: string | Uint8Array; timeoutMs?: number } = {}): CommandResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20 });
  if (r.error) return { status: -1, stdout: r.stdout ?? '', stderr: `${cmd}: ${r.error.message}` };
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed; the error names the command and its last words. */
export function must(cmd: string, args: readonly string[], what = `${cmd} ${args.slice(0, 4).join(' ')}`): string {
  const r = run(cmd, args);
  if (r.status !== 0) throw new WorkspaceError(`${what}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
  return r.stdout;
}

function cgroup2Mounted(at: string): boolean {
  try {
    return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === at && l.split(' ')[2] === 'cgroup2');
  } catch {
    return false;
  }
}

interface Attachment {
  cgroup: string;
  hook: string;
  pin: string;
}

export class Workspace {
  /** The prefix of every name this run creates: bpfbed-parity-<pid>-<random>. */
  readonly prefix: string;
  /** The bpffs folder all pins of this run live in. */
  readonly bpffs: string;
  private cgroupRoot?: string;
  private ownMount?: string;
  private readonly cgroups: string[] = [];
  private readonly netns: string[] = [];
  private readonly attachments: Attachment[] = [];
  private counter = 0;
  private disposed = false;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.dispose();
    process.kill(process.pid, signal); // the default action, now that the handler is gone
  };

  constructor() {
    if (!existsSync(BPFFS)) throw new WorkspaceError(`${BPFFS} is not mounted (mount -t bpf bpf ${BPFFS})`);
    this.prefix = `bpfbed-parity-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.bpffs = join(BPFFS, this.prefix);
    mkdirSync(this.bpffs);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** A fresh name under the run's prefix (a pin subfolder, a namespace). */
  name(what: string): string {
    return `${this.prefix}-${what}-${++this.counter}`;
  }

  /** A fresh folder under the run's bpffs folder. */
  pinDir(what: string): string {
    const dir = join(this.bpffs, `${what}-${++this.counter}`);
    mkdirSync(dir);
    return dir;
  }

  /**
   * A fresh cgroup v2 child: of /sys/fs/cgroup/unified where that is cgroup2, otherwise of a
   * cgroup2 mount of our own (a folder under /tmp named with the run's prefix, unmounted and
   * removed at the end).
   */
  cgroup(): string {
    if (!this.cgroupRoot) {
      if (cgroup2Mounted(CGROUP2)) this.cgroupRoot = CGROUP2;
      else {
        const at = join('/tmp', `${this.prefix}-cgroup2`);
        mkdirSync(at);
        must('mount', ['-t', 'cgroup2', 'none', at], 'mount cgroup2');
        this.ownMount = at;
        this.cgroupRoot = at;
      }
    }
    const dir = join(this.cgroupRoot, this.name('cg'));
    mkdirSync(dir);
    this.cgroups.push(dir);
    return dir;
  }

  /** Attaches a pinned program to one of our cgroups (bpftool cgroup attach). */
  attach(cgroup: string, hook: string, pin: string): void {
    must('bpftool', ['cgroup', 'attach', cgroup, hook, 'pinned', pin], `bpftool cgroup attach ${hook}`);
    this.attachments.push({ cgroup, hook, pin });
  }

  /** A fresh network namespace with its loopback device up. */
  addNetns(): string {
    const ns = this.name('ns');
    must('ip', ['netns', 'add', ns], `ip netns add ${ns}`);
    this.netns.push(ns);
    must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Removes one namespace of ours now (a scenario's, when it is done). */
  deleteNetns(ns: string): void {
    const i = this.netns.indexOf(ns);
    if (i < 0) return;
    this.netns.splice(i, 1);
    run('ip', ['netns', 'del', ns]);
  }

  /** Removes everything this run created, in reverse order of dependence; safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    for (const a of this.attachments.reverse()) run('bpftool', ['cgroup', 'detach', a.cgroup, a.hook, 'pinned', a.pin]);
    for (const ns of this.netns) run('ip', ['netns', 'del', ns]);
    rmSync(this.bpffs, { recursive: true, force: true });
    for (const cg of this.cgroups.reverse()) {
      // a process of ours may still be leaving it; give it a moment
      for (let i = 0; i < 20; i++) {
        try {
          rmdirSync(cg);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
          spawnSync('sleep', ['0.05']);
        }
      }
    }
    if (this.ownMount) {
      run('umount', [this.ownMount]);
      try {
        rmdirSync(this.ownMount);
      } catch {
        // still busy: left empty for the next boot
      }
    }
  }
}
