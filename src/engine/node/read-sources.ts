/**
 * Node-only: turns the PATH arguments of a bulk run into SourceFiles. Whatever
 * cannot be analysed (binary, too large, unreadable) becomes a FileProblem the
 * reports show, so nothing is dropped silently and nothing hangs the run.
 */
import * as fs from 'fs';
import * as path from 'path';
import { textProblem } from '../engine';
import type { FileProblem, SourceFile } from '../types';

/** Files above this are not parsed by default: kernel C files stay far below it. */
export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Like git: a NUL byte in the first 8000 bytes means binary. */
const BINARY_PROBE_BYTES = 8000;

const SOURCE_EXTENSIONS = new Set(['.c', '.h']);

export interface ReadSourcesOptions {
  maxFileBytes?: number;
}

export interface ReadSourcesResult {
  /** Readable sources, in a stable order (arguments in order, directories sorted). */
  files: SourceFile[];
  /** Files that were found but not (fully) usable; a decoded-with-replacement file is in both lists. */
  problems: FileProblem[];
  /** Arguments that do not exist: a usage error for the caller. */
  missing: string[];
  /** Directory arguments under which no .c or .h file was found. */
  empty: string[];
}

export function isSourcePath(file: string): boolean {
  return SOURCE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/**
 * Expands arguments into file paths. Directories are walked recursively for
 * .c and .h files; a file named explicitly is taken whatever its extension
 * (the user asked for it). Symlinked directories are followed once.
 */
export function collectSourcePaths(
  args: readonly string[],
  /** Directories not walked (resolved paths). */
  skipDirs: ReadonlySet<string> = new Set(),
): {
  paths: string[];
  missing: string[];
  empty: string[];
  problems: FileProblem[];
} {
  const paths: string[] = [];
  const missing: string[] = [];
  const empty: string[] = [];
  const problems: FileProblem[] = [];
  const seen = new Set<string>();
  const visitedDirs = new Set<string>();

  const add = (p: string) => {
    const key = path.resolve(p);
    if (seen.has(key)) return;
    seen.add(key);
    paths.push(p);
  };

  const walk = (dir: string): number => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch (e) {
      problems.push({ file: dir, message: `cannot read directory: ${errorText(e)}` });
      return 0;
    }
    if (visitedDirs.has(real)) return 0;
    visitedDirs.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      problems.push({ file: dir, message: `cannot read directory: ${errorText(e)}` });
      return 0;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let found = 0;
    for (const entry of entries) {
      const p = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const st = fs.statSync(p);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue; // a dangling link is not a source file
        }
      }
      if (isDir) {
        if (!skipDirs.has(path.resolve(p))) found += walk(p);
      } else if (isFile && isSourcePath(p)) {
        add(p);
        found++;
      }
    }
    return found;
  };

  for (const arg of args) {
    let st: fs.Stats;
    try {
      st = fs.statSync(arg);
    } catch {
      missing.push(arg);
      continue;
    }
    if (st.isDirectory()) {
      if (walk(arg) === 0) empty.push(arg);
    } else if (st.isFile()) add(arg);
    // A FIFO or device would block or never end: say so instead of reading it.
    else problems.push({ file: arg, message: 'skipped: not a regular file (a pipe, socket or device)' });
  }
  return { paths, missing, empty, problems };
}

export type ReadOutcome = { file: SourceFile; note?: FileProblem } | { problem: FileProblem };

/** Reads one file as UTF-8 text, or says why it cannot be analysed. */
export function readSourceFile(file: string, options: ReadSourcesOptions = {}): ReadOutcome {
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (e) {
    return { problem: { file, message: `cannot read: ${errorText(e)}` } };
  }
  // Checked before reading, so a huge file costs nothing.
  if (size > maxBytes) {
    return {
      problem: {
        file,
        message: `skipped: ${formatBytes(size)} is over the ${formatBytes(maxBytes)} limit (generated or not C?); raise it with --max-file-size`,
      },
    };
  }
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return { problem: { file, message: `cannot read: ${errorText(e)}` } };
  }
  if (bytes.subarray(0, BINARY_PROBE_BYTES).includes(0)) {
    return { problem: { file, message: 'skipped: binary file (contains NUL bytes)' } };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { file: { path: file, text: stripBom(text) } };
  } catch {
    // Old kernel files carry Latin-1 names in comments: still analyse the code.
    const text = new TextDecoder('utf-8').decode(bytes);
    return {
      file: { path: file, text: stripBom(text) },
      note: {
        file,
        message: 'not valid UTF-8: invalid bytes were replaced with U+FFFD; code lines are analysed as usual',
      },
    };
  }
}

/**
 * A kernel tree's top-level folders of programs that run outside the kernel
 * (tools/ with perf and the selftests, scripts/, usr/, the examples in
 * Documentation/): walked as a tree's context, they joined kernel code by
 * name (a selftest's global `fn()` for every call through a pointer of that
 * name). A kernel tree is known by its `Kbuild` and `MAINTAINERS`.
 */
export function outsideKernelDirs(tree: string): string[] {
  if (!fs.existsSync(path.join(tree, 'Kbuild')) || !fs.existsSync(path.join(tree, 'MAINTAINERS'))) return [];
  return ['tools', 'scripts', 'usr', 'Documentation'].map((d) => path.resolve(tree, d));
}

/** collectSourcePaths + readSourceFile over every argument. */
export function readSources(args: readonly string[], options: ReadSourcesOptions = {}): ReadSourcesResult {
  const collected = collectSourcePaths(args);
  const files: SourceFile[] = [];
  const problems: FileProblem[] = [...collected.problems];
  for (const p of collected.paths) {
    const outcome = readSourceFile(p, options);
    if ('problem' in outcome) problems.push(outcome.problem);
    else {
      files.push(outcome.file);
      if (outcome.note) problems.push(outcome.note);
    }
  }
  return { files, problems, missing: collected.missing, empty: collected.empty };
}

/**
 * A context file known by its text's digest (see Engine.setContextFile):
 * worker threads read it again when they need it, so a whole tree's texts
 * are never all in memory at once. `text` is kept only for a file the engine
 * will not analyse anyway (binary, over its size limit), to say so.
 */
export interface DigestedFile {
  path: string;
  textDigest: string;
  /** UTF-8 length of the text, to share files out among workers. */
  bytes: number;
  text?: string;
}

/**
 * Reads files one at a time and keeps only their digests (`digest`, the
 * facts store's). Unreadable files are left out, as for a context tree.
 */
export function digestSources(
  paths: readonly string[],
  digest: (text: string) => string,
  options: ReadSourcesOptions = {},
): DigestedFile[] {
  const out: DigestedFile[] = [];
  for (const p of paths) {
    const outcome = readSourceFile(p, options);
    if (!('file' in outcome)) continue;
    const text = outcome.file.text;
    out.push({
      path: p,
      textDigest: digest(text),
      bytes: Buffer.byteLength(text),
      ...(textProblem(text, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES) ? { text } : {}),
    });
  }
  return out;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}${err.message ? ` (${err.message.replace(/^[A-Z]+: /, '')})` : ''}` : String(e);
}
