/**
 * Node-only: finds and loads `.iommufd-review.json`. An explicit --config wins;
 * otherwise the nearest file upward from the analysed paths (their common
 * directory, so one run uses one configuration whatever the argument order).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseConfig } from '../knowledge/config';
import type { ReviewConfig } from '../knowledge/types';

export const CONFIG_FILE_NAME = '.iommufd-review.json';

export interface LoadedConfig {
  /** The file used, if any. */
  file?: string;
  config?: ReviewConfig;
  /** Each `file: key.path: what is wrong`; non-empty means the config is unusable. */
  problems: string[];
}

/** The deepest directory containing every path (files count by their directory). */
export function commonDirectory(paths: readonly string[]): string {
  const dirs = paths.map((p) => {
    const abs = path.resolve(p);
    try {
      return fs.statSync(abs).isDirectory() ? abs : path.dirname(abs);
    } catch {
      return path.dirname(abs);
    }
  });
  if (dirs.length === 0) return process.cwd();
  let common = dirs[0].split(path.sep);
  for (const d of dirs.slice(1)) {
    const parts = d.split(path.sep);
    let i = 0;
    while (i < common.length && i < parts.length && common[i] === parts[i]) i++;
    common = common.slice(0, i);
  }
  return common.join(path.sep) || path.sep;
}

/** The nearest `.iommufd-review.json` at or above the paths' common directory. */
export function findConfigFile(paths: readonly string[]): string | undefined {
  let dir = commonDirectory(paths);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE_NAME);
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { file, problems: [`${file}: cannot read configuration${code ? ` (${code})` : ''}`] };
  }
  const parsed = parseConfig(text, file);
  return { file, config: parsed.config, problems: parsed.problems };
}

/** `--config FILE` if given, else the nearest one found upward, else none. */
export function resolveConfig(options: { explicit?: string; paths: readonly string[] }): LoadedConfig {
  if (options.explicit !== undefined) return loadConfigFile(options.explicit);
  const found = findConfigFile(options.paths);
  return found ? loadConfigFile(found) : { problems: [] };
}
