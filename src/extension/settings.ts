/** The extension's settings, read fresh each time (they can change at any moment). */
import * as vscode from 'vscode';
import type { Confidence } from '../engine/types';
import type { ContextBounds } from '../engine/editor/context-files';

export interface Settings extends ContextBounds {
  configFile: string;
  minConfidence: Confidence;
  maxFileBytes: number;
  debounceMs: number;
}

export function readSettings(scope?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration('iommufd', scope);
  return {
    configFile: c.get<string>('configFile', '.iommufd-review.json'),
    minConfidence: c.get<Confidence>('minConfidence', 'medium'),
    maxDirectoryFiles: c.get<number>('analysis.maxDirectoryFiles', 60),
    maxWorkspaceFiles: c.get<number>('analysis.maxWorkspaceFiles', 200),
    maxFileBytes: c.get<number>('analysis.maxFileBytes', 2 * 1024 * 1024),
    debounceMs: c.get<number>('analysis.debounceMs', 150),
  };
}
