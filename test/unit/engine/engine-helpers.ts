/** Shared by the engine-core tests: one wasm parser per process, inline C helpers. */
import { Engine } from '../../../src/engine/engine';
import { readWasmFromDisk } from '../../../src/engine/parse/node-wasm';
import type { CParser } from '../../../src/engine/parse/syntax';
import { createWasmParser } from '../../../src/engine/parse/wasm-parser';
import type { FileModel, FunctionModel, Event } from '../../../src/engine/model/types';
import type { AnalysisResult, Confidence, Finding } from '../../../src/engine/types';

let parser: Promise<CParser> | undefined;

export function wasmParser(): Promise<CParser> {
  parser ??= createWasmParser(readWasmFromDisk());
  return parser;
}

/** 1-based line of the first line containing `marker` (after `from`, if given). */
export function lineOf(src: string, marker: string, from?: string): number {
  const start = from ? src.indexOf(from) : 0;
  const at = src.indexOf(marker, start < 0 ? 0 : start);
  if (at < 0) throw new Error(`marker not found: ${marker}`);
  return src.slice(0, at).split('\n').length;
}

export async function modelOf(src: string, path = 'test.c'): Promise<FileModel> {
  const engine = new Engine({ parser: await wasmParser() });
  try {
    engine.setFile(path, src);
    const m = engine.fileModel(path);
    if (!m) throw new Error('no model');
    return m;
  } finally {
    engine.dispose();
  }
}

export function fn(model: FileModel, name: string): FunctionModel {
  const f = model.functions.find((x) => x.name === name);
  if (!f) throw new Error(`no function ${name} in ${model.functions.map((x) => x.name).join(', ')}`);
  return f;
}

/** The findings of one rule. */
export function only(findings: Finding[], rule: string): Finding[] {
  return findings.filter((f) => f.ruleId === rule);
}

/** Every event of a function, in block order. */
export function events(f: FunctionModel): Event[] {
  return f.blocks.flatMap((b) => b.events);
}

export async function analyze(
  files: Record<string, string>,
  minConfidence: Confidence = 'medium',
): Promise<AnalysisResult> {
  const engine = new Engine({ parser: await wasmParser() });
  try {
    for (const [path, text] of Object.entries(files)) engine.setFile(path, text);
    return engine.analyze({ minConfidence });
  } finally {
    engine.dispose();
  }
}

/** A small iommufd-like header, written for these tests, that the fixtures include by being in view. */
export const HEADER = `struct iommufd_access_ops {
	void (*unmap)(void *data, unsigned long iova, unsigned long length);
};

struct io_pagetable {
	struct rw_semaphore domains_rwsem;
	struct rw_semaphore iova_rwsem;
	struct xarray access_list;
};

struct iommufd_ioas {
	struct io_pagetable iopt;
	struct mutex mutex;
};

struct iommufd_access {
	struct iommufd_ioas *ioas;
	struct iommufd_ioas *ioas_unpin;
	struct mutex ioas_lock;
	const struct iommufd_access_ops *ops;
	void *data;
	u32 iopt_access_list_id;
};
`;
