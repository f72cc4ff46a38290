/**
 * Node-only: a git repository as the patch layer's GitObjects. One
 * `git cat-file --batch` process serves every read of a review (blobs by
 * abbreviated id, `<commit>:<path>`, tree objects for directory listings,
 * commit lookups): requests are written as they come and answers read in
 * order, so reading the 16 files of a directory is one round trip, not 16
 * spawns. Every failure (no git, a corrupt repository, a process that stops
 * answering) becomes a note and an empty answer: the review then tries the
 * next pre-image source.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import * as path from 'path';
import type { BlobRead, GitObjects } from '../preimage';
import { fsTree } from './fs-tree';
import type { TreeReader } from '../tree';

/** Longest a git command may take before it is killed and its answers given up. */
export const GIT_TIMEOUT_MS = 10_000;

interface Pending {
  name: string;
  resolve: (r: ObjectRead) => void;
}

type ObjectRead = { type: string; oid: string; bytes: Uint8Array } | { missing: string };

/** The answer stream of `cat-file --batch`: `<oid> <type> <size>\n<bytes>\n` or `<name> missing\n`. */
class BatchReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private need: { oid: string; type: string; size: number } | undefined;

  constructor(private readonly next: () => Pending | undefined) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    for (;;) {
      const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
      this.chunks = [buf];
      if (!this.need) {
        const nl = buf.indexOf(10);
        if (nl < 0) return;
        const header = buf.subarray(0, nl).toString('utf8');
        this.take(nl + 1);
        const parts = header.split(' ');
        const last = parts[parts.length - 1];
        if (parts.length === 3 && /^\d+$/.test(last)) this.need = { oid: parts[0], type: parts[1], size: Number(last) };
        else {
          // `<name> missing` / `<name> ambiguous` (the name may contain spaces).
          const p = this.next();
          p?.resolve({ missing: last === 'ambiguous' ? 'is ambiguous in the repository' : 'is not in the repository' });
        }
        continue;
      }
      if (this.length < this.need.size + 1) return;
      const bytes = new Uint8Array(buf.subarray(0, this.need.size));
      const { oid, type } = this.need;
      this.need = undefined;
      this.take(bytes.length + 1);
      this.next()?.resolve({ type, oid, bytes });
    }
  }

  private take(n: number): void {
    const buf = this.chunks[0].subarray(n);
    this.chunks = buf.length > 0 ? [buf] : [];
    this.length = buf.length;
  }
}

/** Tree object entries: `<mode> <name>\0<raw id>`, repeated; the id is 20 bytes (SHA-1) or 32 (SHA-256). */
export function treeFileNames(bytes: Uint8Array, oidBytes: number): string[] {
  const out: string[] = [];
  const decoder = new TextDecoder();
  let i = 0;
  while (i < bytes.length) {
    const sp = bytes.indexOf(0x20, i);
    const nul = bytes.indexOf(0, sp + 1);
    if (sp < 0 || nul < 0) break;
    const mode = decoder.decode(bytes.subarray(i, sp));
    // Regular files and executables; not trees (040000), links or submodules.
    if (mode === '100644' || mode === '100755') out.push(decoder.decode(bytes.subarray(sp + 1, nul)));
    i = nul + 1 + oidBytes;
  }
  return out;
}

function run(args: string[], cwd: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: 1 << 20, encoding: 'utf8' },
      (error, stdout, stderr) =>
        resolve({ ok: !error, stdout: String(stdout), stderr: String(stderr || (error ? error.message : '')) }),
    );
  });
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

export interface GitRepo extends GitObjects {
  /** The top of the work tree; undefined for a bare repository. */
  readonly workTreeRoot?: string;
  /** The work tree as a TreeReader (as `--base` would read it). */
  readonly workTree?: TreeReader;
  /** Ends the batch process. */
  dispose(): void;
}

export type OpenResult = { repo: GitRepo } | { problem: string };

/**
 * Opens the repository that contains `dir` (a work tree or a bare
 * repository). Says why not when git is missing or `dir` is not in one.
 */
export async function openGitRepo(dir: string): Promise<OpenResult> {
  const probe = await run(['rev-parse', '--is-bare-repository', '--show-toplevel'], dir);
  if (!probe.ok) {
    const why = /ENOENT/.test(probe.stderr)
      ? 'git is not installed'
      : firstLine(probe.stderr) || 'not a git repository';
    return { problem: `${dir}: ${why}` };
  }
  const [bare, top] = probe.stdout.split('\n');
  const root = bare === 'true' ? path.resolve(dir) : top || path.resolve(dir);
  return { repo: new CatFileRepo(root, bare === 'true' ? undefined : top) };
}

class CatFileRepo implements GitRepo {
  readonly name: string;
  readonly workTree?: TreeReader;
  private proc: ChildProcessWithoutNullStreams | undefined;
  private dead: string | undefined;
  private readonly queue: Pending[] = [];
  private readonly problems: string[] = [];
  private readonly said = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly commits = new Map<string, Promise<string | undefined>>();
  /** What git wrote on its standard error (a corrupt pack says so there, then answers `missing`). */
  private stderr = '';

  constructor(
    private readonly root: string,
    readonly workTreeRoot: string | undefined,
  ) {
    this.name = root;
    if (workTreeRoot) this.workTree = fsTree(workTreeRoot);
  }

  private problem(message: string): void {
    if (this.said.has(message)) return;
    this.said.add(message);
    this.problems.push(message);
  }

  takeProblems(): string[] {
    const said = this.stderr.split('\n').find((l) => l.trim() !== '');
    this.stderr = '';
    if (said) this.problem(`git reported a problem with the repository ${this.root}: ${said.trim()}`);
    return this.problems.splice(0);
  }

  private fail(why: string): void {
    this.dead ??= why;
    this.problem(`git cat-file in ${this.root} failed (${why}): no more objects are read from it`);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.queue.splice(0)) p.resolve({ missing: `could not be read (${why})` });
    if (this.proc) {
      this.proc.kill();
      this.proc = undefined;
    }
  }

  private start(): ChildProcessWithoutNullStreams | undefined {
    if (this.dead) return undefined;
    if (this.proc) return this.proc;
    const proc = spawn('git', ['cat-file', '--batch'], { cwd: this.root, stdio: ['pipe', 'pipe', 'pipe'] });
    const reader = new BatchReader(() => {
      const p = this.queue.shift();
      this.arm();
      return p;
    });
    proc.stdout.on('data', (c: Buffer) => reader.push(c));
    proc.stderr.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString('utf8')).slice(-2000)));
    proc.on('error', (e) =>
      this.fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'git is not installed' : e.message),
    );
    proc.on('close', (code) => {
      if (this.proc === proc) {
        this.proc = undefined;
        if (this.queue.length > 0) this.fail(firstLine(this.stderr) || `exit status ${code}`);
      }
    });
    // A closed pipe is reported by 'close'; without a listener it would throw.
    proc.stdin.on('error', () => undefined);
    this.proc = proc;
    return proc;
  }

  /** While answers are awaited, a silent process is killed after GIT_TIMEOUT_MS. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer =
      this.queue.length > 0
        ? setTimeout(() => this.fail(`no answer in ${GIT_TIMEOUT_MS / 1000} s`), GIT_TIMEOUT_MS)
        : undefined;
    this.timer?.unref();
  }

  private read(name: string): Promise<ObjectRead> {
    // The batch protocol is line based: a name with a line break cannot be asked for.
    if (/[\n\r]/.test(name)) return Promise.resolve({ missing: 'has a line break in its name' });
    const proc = this.start();
    if (!proc) return Promise.resolve({ missing: `could not be read (${this.dead})` });
    return new Promise((resolve) => {
      this.queue.push({ name, resolve });
      if (this.queue.length === 1) this.arm();
      proc.stdin.write(name + '\n');
    });
  }

  async readBlobs(names: readonly string[]): Promise<BlobRead[]> {
    const reads = await Promise.all(names.map((n) => this.read(n)));
    // git writes why an object is unreadable to standard error before answering `missing`: let that arrive.
    if (reads.some((r) => 'missing' in r)) await new Promise((r) => setImmediate(r));
    return reads.map((r) =>
      'missing' in r ? r : r.type === 'blob' ? { bytes: r.bytes } : { missing: `is a ${r.type}, not a blob` },
    );
  }

  resolveCommit(rev: string): Promise<string | undefined> {
    let p = this.commits.get(rev);
    if (!p) {
      p = this.read(`${rev}^{commit}`).then((r) => ('missing' in r || r.type !== 'commit' ? undefined : r.oid));
      this.commits.set(rev, p);
    }
    return p;
  }

  async listTree(commit: string, dir: string): Promise<string[]> {
    const r = await this.read(dir ? `${commit}:${dir}` : `${commit}^{tree}`);
    if ('missing' in r || r.type !== 'tree') return [];
    return treeFileNames(r.bytes, r.oid.length / 2);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.proc?.stdin.end();
    this.proc = undefined;
  }
}
