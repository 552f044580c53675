// The running kernel's values for __kconfig externs, as libbpf finds them when it loads an object
// (tools/lib/bpf/libbpf.c): the config from /proc/config.gz, else /boot/config-$(uname -r)
// (bpf_object__read_kconfig_file), LINUX_KERNEL_VERSION from uname's release
// (get_kernel_version), and the virtual LINUX_HAS_* externs from what the kernel has
// (kernel_supports FEAT_BPF_COOKIE, FEAT_SYSCALL_WRAPPER). bpfbed gets exactly these, with its
// defaults off, so an object with externs sees the same values on both sides.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { KCONFIG_DEFAULTS, kernelVersionFromRelease, parseKconfigText, type KconfigValues } from '../../loader/kconfig.js';

export interface RunningKconfig {
  /** Every value, with the defaults' names the running config lacks set to undefined (no value). */
  values: KconfigValues;
  /** Where the config came from. */
  source: string;
}

/** Whether /proc/kallsyms (root reads the names) has a symbol of this exact name. */
function kernelHasSymbol(names: readonly string[]): boolean {
  try {
    const text = readFileSync('/proc/kallsyms', 'utf8');
    return names.some((n) => new RegExp(` ${n}$`, 'm').test(text));
  } catch {
    return false;
  }
}

/**
 * libbpf's get_kernel_version reads Ubuntu's /proc/version_signature first ("Ubuntu 5.4.0-42.46-generic
 * 5.4.44": the upstream version is the third word), since Ubuntu's uname release is not upstream's.
 */
function ubuntuVersion(): number | undefined {
  try {
    const words = readFileSync('/proc/version_signature', 'utf8').trim().split(/\s+/);
    return words[2] ? kernelVersionFromRelease(words[2]) : undefined;
  } catch {
    return undefined;
  }
}

let cached: RunningKconfig | undefined;

/** The running kernel's kconfig values (read once). Throws when neither config file can be read. */
export function runningKconfig(): RunningKconfig {
  if (cached) return cached;
  const rel = release();
  const candidates = ['/proc/config.gz', `/boot/config-${rel}`];
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(`kconfig: neither ${candidates.join(' nor ')} exists (libbpf reads one of them)`);
  const raw = readFileSync(path);
  const text = path.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  const version = ubuntuVersion() ?? kernelVersionFromRelease(rel);
  if (version === undefined) throw new Error(`kconfig: release '${rel}' is not major.minor.patch (libbpf's get_kernel_version fails too)`);
  const none = Object.fromEntries(Object.keys(KCONFIG_DEFAULTS).map((k) => [k, undefined]));
  cached = {
    values: {
      ...none,
      ...parseKconfigText(text, path),
      LINUX_KERNEL_VERSION: version,
      // libbpf probes these by loading test programs; a symbol of the feature stands in for the probe
      LINUX_HAS_BPF_COOKIE: kernelHasSymbol(['bpf_get_attach_cookie_trace', 'bpf_get_attach_cookie_pe']) ? 1 : 0,
      LINUX_HAS_SYSCALL_WRAPPER: kernelHasSymbol(['__x64_sys_bpf', '__arm64_sys_bpf', '__s390x_sys_bpf']) ? 1 : 0,
    },
    source: `${path}, uname ${rel}`,
  };
  return cached;
}
