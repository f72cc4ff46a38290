import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { nodeStoreFs } from '../../../src/review/node-fs';
import * as S from '../../../src/review/session';
import {
  loadSession,
  saveSession,
  serializeSession,
  SessionFile,
  sessionPath,
  type StoreFs,
} from '../../../src/review/store';
import { bigSession } from './big-session';
import { fixtureSeries } from './helpers';
import { PATCH2, reviewedV8 } from './scenario';

const CLOCK = () => new Date('2026-07-02T09:00:00.000Z');

function tempRoot(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'iommufd-review-store-'));
}

test('save and load round-trip through readable, versioned JSON', async () => {
  const root = tempRoot();
  try {
    const s = reviewedV8(await fixtureSeries('v8.mbox'));
    const rel = sessionPath(s.series.name);
    assert.equal(rel, '.vscode/iommufd-review/iommufd-demo-access-replace-v8.json');
    await saveSession(nodeStoreFs(root), rel, s);
    const text = readFileSync(path.join(root, rel), 'utf8');
    assert.equal(text, serializeSession(s));
    assert.match(text, /^\{\n {2}"format": "iommufd-review-session",\n {2}"version": 1,\n {2}"session": \{/);
    assert.deepEqual(await loadSession(nodeStoreFs(root), rel), { kind: 'ok', path: rel, session: s });
    assert.deepEqual(readdirSync(path.join(root, '.vscode/iommufd-review')), ['iommufd-demo-access-replace-v8.json']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a missing file is missing, not an error', async () => {
  const root = tempRoot();
  try {
    assert.deepEqual(await loadSession(nodeStoreFs(root), sessionPath('x-v1')), {
      kind: 'missing',
      path: '.vscode/iommufd-review/x-v1.json',
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

for (const [what, text, reason] of [
  ['corrupt JSON', '{"format": "iommufd-review-session", "vers', /^not valid JSON/],
  [
    'a newer format',
    JSON.stringify({ format: 'iommufd-review-session', version: 2, session: {} }),
    /^written by a newer iommufd-review \(format version 2; this one reads up to 1\)$/,
  ],
  ['another kind of JSON', '{"a": 1}', /^not a session file/],
  [
    'a session without parts',
    JSON.stringify({ format: 'iommufd-review-session', version: 1, session: { series: {} } }),
    /missing parts/,
  ],
] as const) {
  test(`${what} is reported and moved aside, never overwritten`, async () => {
    const root = tempRoot();
    try {
      const rel = sessionPath('s-v1');
      const dir = path.join(root, '.vscode/iommufd-review');
      await nodeStoreFs(root).mkdirp('.vscode/iommufd-review');
      writeFileSync(path.join(root, rel), text);
      const r = await loadSession(nodeStoreFs(root), rel, CLOCK);
      assert.equal(r.kind, 'set-aside');
      if (r.kind !== 'set-aside') return;
      assert.match(r.reason, reason);
      assert.equal(r.movedTo, '.vscode/iommufd-review/s-v1.corrupt-20260702T090000000Z.json');
      assert.deepEqual(readdirSync(dir), ['s-v1.corrupt-20260702T090000000Z.json']);
      assert.equal(readFileSync(path.join(root, r.movedTo), 'utf8'), text);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test('temporary files of a save that died are cleaned up on load', async () => {
  const root = tempRoot();
  try {
    const rel = sessionPath('s-v1');
    await saveSession(nodeStoreFs(root), rel, bigSession(1, 2));
    writeFileSync(path.join(root, rel + '.tmp-dead-0'), '{"half');
    const r = await loadSession(nodeStoreFs(root), rel);
    assert.equal(r.kind, 'ok');
    assert.deepEqual(readdirSync(path.join(root, '.vscode/iommufd-review')), ['s-v1.json']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('saves after every change land in order; the file holds the last one', async () => {
  const root = tempRoot();
  try {
    const file = new SessionFile(nodeStoreFs(root), sessionPath('s-v1'));
    let s = S.createSession(await fixtureSeries('v8.mbox'), 'R <r@example.net>');
    const saves: Promise<void>[] = [];
    for (let k = 0; k < 30; k++) {
      s = S.addThread(s, PATCH2, { kind: 'patch' }, `note ${k}`, 'now').session;
      saves.push(file.save(s));
    }
    await Promise.all(saves);
    await file.flush();
    const r = await loadSession(nodeStoreFs(root), file.path);
    assert.equal(r.kind === 'ok' && r.session.reviews[PATCH2].threads.length, 30);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('session names cannot leave the session folder', () => {
  assert.throws(() => sessionPath('../x'), /not a usable series name/);
  assert.throws(() => sessionPath('.hidden'), /not a usable series name/);
});

interface CrashRun {
  /** The load after the kill, and the last generation the writer reported done. */
  result: Awaited<ReturnType<typeof loadSession>>;
  lastSaved: number;
  tempLeft: boolean;
  /** The session file itself was gone when the writer died. */
  targetGone: boolean;
}

/** Starts a writer, lets it finish one save, kills it with SIGKILL at a random moment, loads the file. */
async function killWriterOnce(mode?: 'naive' | 'delete-then-move'): Promise<CrashRun> {
  const root = tempRoot();
  try {
    const rel = sessionPath('big-v1');
    await saveSession(nodeStoreFs(root), rel, bigSession(0));
    const args = [path.join(__dirname, 'crash-writer.js'), root, rel, '1', ...(mode ? [mode] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let lastSaved = 0;
    const firstSave = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        const m = /saved (\d+)\n$/.exec(d.toString());
        if (m) lastSaved = Number(m[1]);
        resolve();
      });
    });
    // 'close' comes after the child's stdout is drained: lastSaved is then its last word.
    const closed = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('close', (_code, signal) => resolve(signal)),
    );
    await firstSave;
    // A save of this size takes tens of milliseconds: a random delay in that range lands anywhere in it.
    await new Promise((r) => setTimeout(r, Math.random() * 80));
    child.kill('SIGKILL');
    assert.equal(await closed, 'SIGKILL');
    const names = readdirSync(path.join(root, '.vscode/iommufd-review'));
    const tempLeft = names.some((n) => n.includes('.tmp-'));
    const targetGone = !names.includes('big-v1.json');
    return { result: await loadSession(nodeStoreFs(root), rel), lastSaved, tempLeft, targetGone };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const RUNS = 20;
/**
 * The kills land at random moments: on a loaded machine the windows they must
 * hit (a save in progress, the gap between a delete and a move) can be missed
 * by all of the first RUNS. Each test goes on, up to this many runs, until one
 * has landed; every run is checked all the same.
 */
const MAX_RUNS = 120;

/**
 * Kills a real writer process with SIGKILL at random moments while it saves a
 * 1.4 MB session in a loop; whatever moment it dies, the file holds one whole
 * generation: the last one it reported, or the one it was writing.
 */
test('a writer killed in the middle of a save leaves the old or the new session, never a broken one', async () => {
  let midWrite = 0;
  let run = 0;
  for (; run < MAX_RUNS && (run < RUNS || midWrite === 0); run++) {
    const { result: r, lastSaved, tempLeft } = await killWriterOnce();
    if (tempLeft) midWrite++;
    assert.equal(r.kind, 'ok', `run ${run}: ${r.kind === 'set-aside' ? r.reason : r.kind}`);
    if (r.kind !== 'ok') return;
    const g = r.session.nextId;
    assert.ok(g === lastSaved || g === lastSaved + 1, `run ${run}: generation ${g}, last reported ${lastSaved}`);
    assert.deepEqual(r.session, bigSession(g));
  }
  // The kills must have hit saves in progress, or the test proves nothing.
  assert.ok(midWrite > 0, `no kill landed mid-write in ${run} runs`);
});

test('control: the same kills do tear a file written in place', async () => {
  let torn = 0;
  let run = 0;
  for (; run < MAX_RUNS && (run < RUNS || torn === 0); run++)
    if ((await killWriterOnce('naive')).result.kind === 'set-aside') torn++;
  assert.ok(torn > 0, `no torn file in ${run} runs`);
});

test('with a rename that deletes then moves (vscode.workspace.fs with overwrite), a killed writer still leaves the old or the new session', async () => {
  let betweenSteps = 0;
  let run = 0;
  for (; run < MAX_RUNS && (run < RUNS || betweenSteps === 0); run++) {
    const { result: r, lastSaved, targetGone } = await killWriterOnce('delete-then-move');
    if (targetGone) betweenSteps++;
    assert.equal(r.kind, 'ok', `run ${run}: ${r.kind === 'set-aside' ? r.reason : r.kind}`);
    if (r.kind !== 'ok') return;
    const g = r.session.nextId;
    assert.ok(g === lastSaved || g === lastSaved + 1, `run ${run}: generation ${g}, last reported ${lastSaved}`);
    assert.deepEqual(r.session, bigSession(g));
  }
  // Some kills must have landed between the delete and the move, where only the recovery helps.
  assert.ok(betweenSteps > 0, `no kill landed between delete and move in ${run} runs`);
});

test('a save stopped between the delete and the move is recovered from its complete temporary file', async () => {
  const root = tempRoot();
  try {
    const node = nodeStoreFs(root);
    const rel = sessionPath('s-v1');
    await saveSession(node, rel, bigSession(1, 3));
    const dying: StoreFs = {
      ...node,
      async rename(_from, to) {
        await node.remove(to);
        throw new Error('killed between delete and move');
      },
    };
    await assert.rejects(saveSession(dying, rel, bigSession(2, 3)), /killed between delete and move/);
    // An older torn temporary file next to it must not win.
    writeFileSync(path.join(root, rel + '.tmp-0-0'), '{"format": "iommufd-review-session", "vers');
    const dir = path.join(root, '.vscode/iommufd-review');
    assert.equal(readdirSync(dir).filter((n) => n === 's-v1.json').length, 0);
    assert.deepEqual(await loadSession(node, rel), { kind: 'ok', path: rel, session: bigSession(2, 3) });
    assert.deepEqual(readdirSync(dir), ['s-v1.json']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a torn temporary file alone is not a session: missing, and cleaned up', async () => {
  const root = tempRoot();
  try {
    const node = nodeStoreFs(root);
    const rel = sessionPath('s-v1');
    await node.mkdirp('.vscode/iommufd-review');
    writeFileSync(path.join(root, rel + '.tmp-1-0'), '{"format": "iommufd-review-session", "vers');
    assert.deepEqual(await loadSession(node, rel), { kind: 'missing', path: rel });
    assert.deepEqual(readdirSync(path.join(root, '.vscode/iommufd-review')), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
