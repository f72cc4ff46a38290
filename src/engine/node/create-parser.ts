/**
 * Node-only: a parser for either backend by name. The native binding is
 * required only when asked for, so wasm runs never load the compiled addon.
 */
import type { Backend, CParser } from '../parse/syntax';

export const BACKENDS: readonly Backend[] = ['wasm', 'native'];

/**
 * The CLI's default for bulk runs, chosen by `npm run bench` (see docs/cli.md,
 * "Backend choice"): change it only with new numbers.
 */
export const DEFAULT_BULK_BACKEND: Backend = 'wasm';

export async function createParser(backend: Backend): Promise<CParser> {
  if (backend === 'native') {
    const { createNativeParser } = await import('../parse/native-parser');
    return createNativeParser();
  }
  const [{ createWasmParser }, { readWasmFromDisk }] = await Promise.all([
    import('../parse/wasm-parser'),
    import('../parse/node-wasm'),
  ]);
  return createWasmParser(readWasmFromDisk());
}
