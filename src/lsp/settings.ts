/**
 * The server's settings: the same keys as the VS Code extension's `iommufd.*`
 * settings (package.json `contributes.configuration`), read from whatever a
 * client sends: the answer to workspace/configuration for section `iommufd`,
 * didChangeConfiguration's `settings.iommufd`, or initializationOptions.
 * Nested (`analysis: { debounceMs }`) and dotted (`"analysis.debounceMs"`)
 * forms are both accepted; a bad value keeps the default and is reported.
 */
import type { ContextBounds } from '../engine/editor/context-files';
import { CONFIDENCE_ORDER, type Confidence } from '../engine/types';

export interface ServerSettings extends ContextBounds {
  configFile: string;
  minConfidence: Confidence;
  maxFileBytes: number;
  debounceMs: number;
}

export const DEFAULT_SETTINGS: ServerSettings = {
  configFile: '.iommufd-review.json',
  minConfidence: 'medium',
  maxDirectoryFiles: 60,
  maxWorkspaceFiles: 200,
  maxFileBytes: 2 * 1024 * 1024,
  debounceMs: 150,
};

type NumberKey = 'maxDirectoryFiles' | 'maxWorkspaceFiles' | 'maxFileBytes' | 'debounceMs';
const NUMBERS: Record<NumberKey, { min: number; max: number }> = {
  maxDirectoryFiles: { min: 0, max: 1000 },
  maxWorkspaceFiles: { min: 0, max: 5000 },
  maxFileBytes: { min: 1024, max: 1024 * 1024 * 1024 },
  debounceMs: { min: 0, max: 5000 },
};

function lookup(raw: Record<string, unknown>, dotted: string): unknown {
  if (dotted in raw) return raw[dotted];
  const [head, ...rest] = dotted.split('.');
  const inner = raw[head];
  if (rest.length === 0 || typeof inner !== 'object' || inner === null) return undefined;
  return lookup(inner as Record<string, unknown>, rest.join('.'));
}

/**
 * Settings from a client's object. `raw` is the `iommufd` section itself, or
 * an object that has one under `iommufd` (as didChangeConfiguration sends).
 */
export function parseSettings(raw: unknown): { settings: ServerSettings; problems: string[] } {
  const settings = { ...DEFAULT_SETTINGS };
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null) return { settings, problems };
  let section = raw as Record<string, unknown>;
  if (typeof section.iommufd === 'object' && section.iommufd !== null)
    section = section.iommufd as Record<string, unknown>;
  const configFile = lookup(section, 'configFile');
  if (configFile !== undefined && configFile !== null) {
    if (typeof configFile === 'string') settings.configFile = configFile;
    else problems.push('iommufd.configFile: expected a string');
  }
  const min = lookup(section, 'minConfidence');
  if (min !== undefined && min !== null) {
    if ((CONFIDENCE_ORDER as readonly unknown[]).includes(min)) settings.minConfidence = min as Confidence;
    else problems.push(`iommufd.minConfidence: expected one of ${CONFIDENCE_ORDER.join(', ')}`);
  }
  for (const key of Object.keys(NUMBERS) as NumberKey[]) {
    const v = lookup(section, `analysis.${key}`);
    if (v === undefined || v === null) continue;
    const { min: lo, max: hi } = NUMBERS[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi) settings[key] = Math.floor(v);
    else problems.push(`iommufd.analysis.${key}: expected a number from ${lo} to ${hi}`);
  }
  return { settings, problems };
}
