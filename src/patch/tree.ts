/**
 * How the patch layer reads a base tree. Injected, so the core stays
 * browser-safe: Node reads the disk (src/patch/node/fs-tree.ts), the
 * extension reads the workspace through vscode.workspace.fs.
 */
export interface TreeReader {
  /** The file's bytes or text; undefined when it does not exist. Paths are relative to the tree, `/`-separated. */
  readFile(path: string): Promise<string | Uint8Array | undefined>;
  /** Names (not paths) of the entries of a directory; [] when it does not exist. */
  listDir(dir: string): Promise<string[]>;
}

/** The C sources the engine reads. */
export function isCSource(path: string): boolean {
  return /\.[ch]$/.test(path);
}

export function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
