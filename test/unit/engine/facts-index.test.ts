/**
 * The engine with a facts store: an unchanged file is never parsed again
 * (parses counted on the real wasm parser), a changed file is, a file whose
 * context changed is modelled again, and results equal a run without store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../../../src/engine/engine';
import { DeferredParser } from '../../../src/engine/node/deferred-parser';
import { DiskFactsStore } from '../../../src/engine/node/facts-disk-store';
import { loadFiles, partition } from '../../../src/engine/node/facts-workers';
import type { CParser } from '../../../src/engine/parse/syntax';
import type { SourceFile } from '../../../src/engine/types';
import { wasmParser } from './engine-helpers';

const TREE = path.resolve(__dirname, '../../../../test/fixtures/tree');
const dir = mkdtempSync(path.join(tmpdir(), 'iommufd-review-facts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function treeFiles(): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push({ path: path.relative(TREE, p), text: readFileSync(p, 'utf8') });
    }
  };
  walk(TREE);
  return out;
}

/** The real parser, counting the files it parses. */
async function countingParser(): Promise<{ parser: CParser; parsed: string[] }> {
  const real = await wasmParser();
  const parsed: string[] = [];
  return {
    parsed,
    parser: {
      backend: real.backend,
      parse: (text, oldTree, timeoutMs) => {
        parsed.push(text.slice(0, 60));
        return real.parse(text, oldTree, timeoutMs);
      },
      free: (tree) => real.free(tree),
      dispose: () => undefined,
    },
  };
}

async function run(files: SourceFile[], store: DiskFactsStore | undefined) {
  const { parser, parsed } = await countingParser();
  const engine = new Engine({ parser, ...(store ? { facts: store } : {}) });
  try {
    for (const f of files) engine.setFile(f.path, f.text);
    return { result: engine.analyze({ minConfidence: 'low' }), parses: parsed.length };
  } finally {
    engine.dispose();
  }
}

test('facts store: a second engine parses nothing when no file changed, and reports the same', async () => {
  const files = treeFiles();
  assert.equal(files.length, 3);
  const index = path.join(dir, 'round-trip');
  const plain = await run(files, undefined);
  const cold = await run(files, new DiskFactsStore({ dir: index }));
  assert.equal(cold.parses, 3);
  const store = new DiskFactsStore({ dir: index });
  const warm = await run(files, store);
  assert.equal(warm.parses, 0);
  assert.equal(store.stats.loaded, 3);
  assert.deepEqual(warm.result, cold.result);
  assert.deepEqual(cold.result, plain.result);
  assert.deepEqual(store.notes, []);
});

test("facts store: a file's facts are stored as JSON and read back equal to the model built, in the same context", async () => {
  const index = path.join(dir, 'json');
  const files = treeFiles();
  const { parser } = await countingParser();
  const plain = new Engine({ parser });
  for (const f of files) plain.setFile(f.path, f.text);
  await run(files, new DiskFactsStore({ dir: index }));
  const store = new DiskFactsStore({ dir: index });
  for (const f of files) {
    const facts = store.get(f.path, f.text);
    // Nothing lost or added on the way (an undefined-valued property would be, in JSON): the same model, field for field.
    assert.deepEqual(facts?.model?.value, plain.fileModel(f.path), f.path);
  }
  plain.dispose();
  const entries: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) walk(path.join(d, e.name));
      else entries.push(path.join(d, e.name));
  };
  walk(index);
  assert.equal(entries.length, 3);
  for (const e of entries) {
    const text = readFileSync(e, 'utf8');
    const nl = text.indexOf('\n');
    assert.match(text.slice(0, nl), /^iommufd-review-index 2 \S+ [0-9a-f]{64}$/);
    const record = JSON.parse(text.slice(nl + 1)) as { path: string; facts: { model: { value: { file: string } } } };
    assert.equal(record.facts.model.value.file, record.path);
  }
});

test('facts store: only the edited file is parsed again; a layout change remodels the others from their trees', async () => {
  const index = path.join(dir, 'edit');
  const files = treeFiles();
  await run(files, new DiskFactsStore({ dir: index }));
  // A body edit: the layouts stay, so the other files' models stay valid.
  const body = files.map((f) =>
    f.path.endsWith('reset.c')
      ? { ...f, text: f.text.replace('widget_set_state(wd, 0)', 'widget_set_state(wd, 1)') }
      : f,
  );
  const afterBody = await run(body, new DiskFactsStore({ dir: index }));
  assert.equal(afterBody.parses, 1);
  assert.deepEqual(afterBody.result, (await run(body, undefined)).result);
  // A new field in the header: every model resolves lock names through it, so every file is modelled again.
  const layout = body.map((f) =>
    f.path.endsWith('widget.h')
      ? { ...f, text: f.text.replace('unsigned int generation;', 'unsigned int generation;\n\tunsigned int flags;') }
      : f,
  );
  const afterLayout = await run(layout, new DiskFactsStore({ dir: index }));
  assert.equal(afterLayout.parses, 3);
  assert.deepEqual(afterLayout.result, (await run(layout, undefined)).result);
  // And that state is stored in turn.
  assert.equal((await run(layout, new DiskFactsStore({ dir: index }))).parses, 0);
});

test('facts store: another engine build never reads these facts', async () => {
  const index = path.join(dir, 'versions');
  const files = treeFiles();
  await run(files, new DiskFactsStore({ dir: index }));
  const other = await run(files, new DiskFactsStore({ dir: index, version: 'another-build' }));
  assert.equal(other.parses, 3);
});

test('loadFiles: a run whose every file is in the index never loads the parser; one changed file does', async () => {
  const index = path.join(dir, 'deferred');
  const files = treeFiles();
  const options = (parser: DeferredParser) => ({
    jobs: 1,
    backend: 'wasm' as const,
    timeoutMs: 5000,
    needParser: () => parser.load(),
  });
  const analyse = async (texts: SourceFile[]) => {
    const parser = new DeferredParser('wasm');
    const store = new DiskFactsStore({ dir: index });
    const engine = new Engine({ parser, facts: store });
    try {
      await loadFiles(engine, store, texts, options(parser));
      return { result: engine.analyze({ minConfidence: 'low' }), loaded: parser.loaded };
    } finally {
      engine.dispose();
      parser.dispose();
    }
  };
  const cold = await analyse(files);
  assert.equal(cold.loaded, true);
  const warm = await analyse(files);
  assert.equal(warm.loaded, false);
  assert.deepEqual(warm.result, cold.result);
  const edited = files.map((f) => (f.path.endsWith('state.c') ? { ...f, text: `${f.text}\n` } : f));
  const afterEdit = await analyse(edited);
  assert.equal(afterEdit.loaded, true);
  assert.deepEqual(afterEdit.result, (await run(edited, undefined)).result);
});

test('partition: every file goes to exactly one worker, largest first to the least loaded (bytes)', () => {
  const file = (name: string, size: number) => ({ path: name, text: 'x'.repeat(size) });
  // One large file and many small ones, in directory order (the large one first, as pages.c in iommufd).
  const files = [file('big.c', 600), ...Array.from({ length: 12 }, (_, i) => file(`f${i}.c`, 100 - i))];
  const shares = partition(files, 2);
  assert.equal(shares.length, 2);
  assert.deepEqual(
    shares
      .flat()
      .map((f) => f.path)
      .sort(),
    files.map((f) => f.path).sort(),
  );
  const bytes = shares.map((s) => s.reduce((n, f) => n + f.text.length, 0));
  // 1734 bytes in all: the big file's worker takes three small ones, the other nine.
  assert.deepEqual(bytes, [873, 861]);
  assert.deepEqual(
    shares.map((s) => s.length),
    [4, 9],
  );
  assert.deepEqual(shares[0].map((f) => f.path).slice(0, 1), ['big.c']);
  // Each share lists its largest file first.
  for (const s of shares)
    assert.deepEqual(
      s,
      [...s].sort((a, b) => b.text.length - a.text.length),
    );
  // More workers than files: the extra shares are empty, nothing is lost.
  assert.deepEqual(
    partition(files.slice(0, 2), 4).map((s) => s.length),
    [1, 1, 0, 0],
  );
});

/** Twelve small files, each a function taking its own struct's lock, named `<prefix><n>.c`. */
function lockedFiles(prefix: string): SourceFile[] {
  return Array.from({ length: 12 }, (_, i) => ({
    path: `${prefix}${i}.c`,
    text: `struct s${i} { struct mutex lock; int n; };\nint f${i}(struct s${i} *s)\n{\n\tmutex_lock(&s->lock);\n\ts->n++;\n\tmutex_unlock(&s->lock);\n\treturn 0;\n}\n`,
  }));
}

/**
 * Twelve locked files loaded with `jobs` 2 and `options`: the loader's counts,
 * whether this thread loaded the grammar, and a check that the analysis is
 * the one an engine given every text makes itself.
 */
async function loadTwelve(
  prefix: string,
  options: { parser?: true; minSharedBytes: (bytes: number) => number },
): Promise<{ stats: unknown; grammarHere: boolean }> {
  const files = lockedFiles(prefix);
  const bytes = files.reduce((n, f) => n + f.text.length, 0);
  const parser = new DeferredParser('wasm');
  const store = new DiskFactsStore();
  const engine = new Engine({ parser, facts: store });
  try {
    const stats = await loadFiles(engine, store, files, {
      jobs: 2,
      backend: 'wasm',
      timeoutMs: 5000,
      needParser: () => parser.load(),
      ...(options.parser ? { parser } : {}),
      minSharedBytes: options.minSharedBytes(bytes),
    });
    const result = engine.analyze({ minConfidence: 'low' });
    assert.equal(result.coverage.functions.parsed, 12);
    const one = new Engine({ parser: await wasmParser() });
    for (const f of files) one.setFile(f.path, f.text);
    assert.deepEqual(result, one.analyze({ minConfidence: 'low' }));
    one.dispose();
    return { stats, grammarHere: parser.loaded };
  } finally {
    engine.dispose();
    parser.dispose();
  }
}

test('loadFiles with 2 workers: the workers parse and model every file, this thread never loads the grammar', async () => {
  const { stats, grammarHere } = await loadTwelve('w', { minSharedBytes: () => 0 });
  assert.deepEqual(stats, { parsedInWorkers: 12, modelledInWorkers: 12, workers: 2, parsedHere: 0, modelledHere: 0 });
  assert.equal(grammarHere, false);
});

test('loadFiles with jobs 2 below the shared-bytes floor: no worker starts, this thread does all, the same result', async () => {
  const { stats, grammarHere } = await loadTwelve('s', { parser: true, minSharedBytes: (bytes) => bytes + 1 });
  assert.deepEqual(stats, { parsedInWorkers: 0, modelledInWorkers: 0, workers: 0, parsedHere: 0, modelledHere: 0 });
  assert.equal(grammarHere, true);
});

test('loadFiles with jobs 2 and the engine parser: this thread takes half the files, one worker the rest, the same result', async () => {
  const { stats } = await loadTwelve('h', { parser: true, minSharedBytes: () => 0 });
  assert.deepEqual(stats, { parsedInWorkers: 6, modelledInWorkers: 6, workers: 1, parsedHere: 6, modelledHere: 6 });
});
