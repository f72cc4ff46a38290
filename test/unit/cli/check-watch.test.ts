/**
 * `check --watch` through the bundle, on real files and real file-system
 * events: the first answer, then a new answer after each save (an editor's
 * rename-over save too), saying whether the summaries and the lock graph were
 * kept; Ctrl-C ends it with the last answer's exit status.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cliBundle, repoRoot, runCli } from './run-cli';

let dir = '';
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iommufd-review-watch-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = `// SPDX-License-Identifier: MIT
struct wdev {
	struct mutex cfg_lock;
	struct mutex stat_lock;
	int hits;
};
`;

const CFG = `${HEADER}
void wdev_reconfig(struct wdev *w)
{
	mutex_lock(&w->cfg_lock);
	mutex_lock(&w->stat_lock);
	w->hits = 0;
	mutex_unlock(&w->stat_lock);
	mutex_unlock(&w->cfg_lock);
}
`;

/** The stats side: `inverted` takes cfg_lock under stat_lock; `why` is a comment on the store (an in-place edit). */
function stats(inverted: boolean, why: string): string {
  const inner = inverted ? '\tmutex_lock(&w->cfg_lock);\n\tmutex_unlock(&w->cfg_lock);\n' : '';
  return `${HEADER}
void wdev_stats(struct wdev *w)
{
	mutex_lock(&w->stat_lock);
${inner}	w->hits = 0; /* ${why} */
	mutex_unlock(&w->stat_lock);
}
`;
}

/** Collects a child's output and waits for text to appear in it. */
class Watched {
  readonly out = { stdout: '', stderr: '' };
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => this.feed('stdout', d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.feed('stderr', d));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }
  private feed(stream: 'stdout' | 'stderr', d: string): void {
    this.out[stream] += d;
    for (const w of this.waiters.splice(0)) w();
  }
  /** Resolves once `stream` has `count` matches of `pattern`; fails after `ms`. */
  async until(stream: 'stdout' | 'stderr', pattern: RegExp, count: number, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    const matches = () => this.out[stream].match(new RegExp(pattern.source, 'g'))?.length ?? 0;
    while (matches() < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `waited ${ms} ms for ${count} × ${pattern}; stderr:\n${this.out.stderr}\nstdout:\n${this.out.stdout}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  /** The answers printed so far: each text report ends with its coverage line. */
  answers(): string[] {
    return this.out.stdout.split(/(?<=coverage: [^\n]*\n)/).filter((a) => a.trim() !== '');
  }
}

/** The text report's closing line, one per answer. */
const ANSWER_END = /coverage: \d+ files?, /;

test('check --watch: a save that adds an inversion gets a new answer with the cycle; an in-place edit keeps the global step', async () => {
  const cfg = path.join(dir, 'wdev_cfg.c');
  const st = path.join(dir, 'wdev_stats.c');
  writeFileSync(cfg, CFG);
  writeFileSync(st, stats(false, 'reset'));
  const w = new Watched(
    spawn(process.execPath, [cliBundle, 'check', '--watch', '--no-index', '--jobs', '1', '-c', 'low', dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  try {
    await w.until('stderr', /watching 2 files for changes \(Ctrl-C to stop\)/, 1);
    assert.deepEqual(
      w.answers().map((a) => a.trim()),
      ['0 findings; coverage: 2 files, 2 functions: 2 parsed, 0 partial, 0 skipped'],
    );

    // A save by rename, as editors do: the new text is written beside the file and moved over it.
    writeFileSync(`${st}.tmp`, stats(true, 'reset'));
    renameSync(`${st}.tmp`, st);
    await w.until('stdout', ANSWER_END, 2);
    assert.match(
      w.out.stderr,
      /re-checked after a change to \S*wdev_stats\.c in \d+ ms \(summaries and lock graph redone: a call, lock, callback or store changed\)/,
    );
    const second = w.answers()[1];
    const held = CFG.split('\n').indexOf('\tmutex_lock(&w->stat_lock);') + 1;
    const inverted = stats(true, 'reset').split('\n').indexOf('\tmutex_lock(&w->cfg_lock);') + 1;
    assert.equal(
      second.split('\n')[0],
      `${cfg}:${held}:2: error: [lock-order] \`wdev.cfg_lock\` → \`wdev.stat_lock\` here, in \`wdev_reconfig()\` (line ${held}), but \`wdev.stat_lock\` → \`wdev.cfg_lock\` in \`wdev_stats()\` (${st}:${inverted}): possible ABBA deadlock. (confidence: high; in wdev_reconfig())`,
    );
    assert.match(second, /^1 finding; coverage: 2 files/m);

    // An in-place edit of a comment: no call, lock or line moved; the same cycle is reported again.
    writeFileSync(st, stats(true, 'read'));
    await w.until('stdout', ANSWER_END, 3);
    assert.match(
      w.out.stderr,
      /\(summaries and lock graph kept: no call, lock, callback or store changed; lines moved at most\)/,
    );
    assert.equal(w.answers()[2], second);

    // A comment line inserted at the top: every line of the file moves, the step is still kept, and the
    // answer names the moved line.
    writeFileSync(st, `/* moved */\n${stats(true, 'read')}`);
    await w.until('stdout', ANSWER_END, 4);
    assert.equal(w.out.stderr.match(/summaries and lock graph kept/g)?.length, 2);
    assert.equal(
      w.answers()[3],
      second.replace(/wdev_stats\.c:(\d+)/g, (_, n: string) => `wdev_stats.c:${Number(n) + 1}`),
    );
    assert.match(w.answers()[3], new RegExp(`wdev_stats\\.c:${inverted + 1}\\): possible ABBA`));

    w.child.kill('SIGINT');
    assert.equal(await w.exited, 1, 'the last answer has findings');
  } finally {
    w.child.kill('SIGKILL');
  }
});

test('check --watch prints text only: another format is a usage error', () => {
  const r = runCli(['check', '--watch', '--format', 'json', dir]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--watch prints text: drop --format json/);
});
