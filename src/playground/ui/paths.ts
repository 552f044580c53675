// POSIX path arithmetic for workspace paths. A scenario names its files relative to its own
// folder (as the CLI resolves them: src/cli/commands/run.ts, `resolve(dirname(scenario), path)`),
// and the workspace stores every file by its path from the workspace root.

/** Folder part of a workspace path ('' for a file at the root). */
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Normalises 'a/./b/../c' to 'a/c'; '..' above the root is kept so a bad path stays visible. */
export function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

/** The workspace path of `target` as named by a file in folder `base`. */
export function resolvePath(base: string, target: string): string {
  return target.startsWith('/') ? normalize(target) : normalize(base ? `${base}/${target}` : target);
}

/** How a file in folder `base` names the workspace path `target`. */
export function relativePath(base: string, target: string): string {
  const from = normalize(base).split('/').filter(Boolean);
  const to = normalize(target).split('/').filter(Boolean);
  let common = 0;
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) common++;
  return [...from.slice(common).map(() => '..'), ...to.slice(common)].join('/');
}
