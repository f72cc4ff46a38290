/**
 * `iommufd-review simulate`: run the replace-flow simulator on a built-in
 * variant or on a helper function read from C source, and print verdicts and
 * counterexamples (text, JSON, SARIF), or emit the model for Spin.
 * Exit 0 when every invariant holds, 1 when one is violated, 2 usage error.
 */
import { readFileSync } from 'fs';
import { parseArgs } from 'util';
import { Engine } from '../engine';
import { createParser, DEFAULT_BULK_BACKEND } from '../engine/node/create-parser';
import { defaultIndexDir } from '../engine/node/facts-disk-store';
import { INDEX_ARG_OPTIONS, openIndex, printIndexNotes, readIndexOptions, type IndexOptions } from './index-options';
import { programsFor, simulate } from '../sim';
import { isReplaceHelper, ReplayCoverageError, stepsFromSource } from '../sim/from-source';
import { emitPromela } from '../sim/promela';
import { proposeRepair, RepairInputError } from '../sim/repair';
import { formatRepairDiff, formatRepairJson, formatRepairText, repairShortfall } from '../report/repair';
import { SIM_CONTRACTS, SIM_FAULTS, SIM_THREADS, SIM_VARIANTS } from '../sim/types';
import type { SimContract, SimFault, SimThread, SimulationRequest, SimVariant, SourceStep } from '../sim/types';
import { formatSimJson } from '../report/sim-json';
import { formatSimSarif } from '../report/sim-sarif';
import { formatSimText } from '../report/sim-text';
import { packageInfo } from './package-info';
import { EXIT_FINDINGS, EXIT_OK, UsageError, writeOut } from './usage-error';

export const FORMATS = ['text', 'json', 'sarif', 'diff'] as const;
export type Format = (typeof FORMATS)[number];

export const HELP = `Usage: iommufd-review simulate [OPTIONS]

Explore every interleaving of the iommufd access replace flow with a driver
pinning and unpinning, a user unmapping, a detach and a destroy of the old
IOAS, and check: ${['no-deadlock', 'failure-contract', 'pin-attached', 'no-use-after-free', 'list-id-consistent'].join(', ')}.

Options:
      --variant NAME          ${SIM_VARIANTS.filter((v) => v !== 'from-source').join(', ')} (default: merged)
      --from FILE:FUNCTION    the replace helper FUNCTION in the C file FILE (variant from-source)
      --index DIR             with --from: read FILE's model from the index in DIR, and keep it
                              there (default: ${defaultIndexDir()})
      --no-index              neither read nor write the index
      --threads LIST          comma-separated, from: ${SIM_THREADS.join(', ')}
                              (default: all; the replacer is always included)
      --fault LIST            comma-separated, from: ${SIM_FAULTS.join(', ')}, or none
                              (default: all; may be repeated)
      --contract NAME         status-quo (default) or usable: what a failed replace must leave
      --max-states N          stop after N states (the result then says it is incomplete)
      --repair                with --from: search an order of the steps that keeps every
                              invariant, write it as an edit of FUNCTION and re-analyse it
                              (exit 0 only for a verified proposal)
  -f, --format FORMAT         text (default), json or sarif; with --repair: text, json
                              (the edit as line replacements) or diff
      --emit promela          print the model as Promela for Spin instead of simulating
  -h, --help                  show this help

Exit status: 0 every invariant holds (with --repair: a verified proposal), 1 one is
violated (no verified proposal), 2 usage or input error.
`;

export interface SimulateOptions {
  request: SimulationRequest;
  /** For --from: where the steps came from. */
  from?: { file: string; function: string };
  /** For --from: the index the file's model is read from (and kept in). */
  index?: IndexOptions;
  format: Format;
  emit?: 'promela';
  repair?: boolean;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`invalid ${option} '${value}': expected one of ${allowed.join(', ')}`, 'simulate');
}

function list<T extends string>(
  values: string[] | undefined,
  allowed: readonly T[],
  option: string,
  all: readonly T[],
): T[] {
  if (!values || values.length === 0) return [...all];
  const items = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (items.length === 1 && items[0] === 'none') return [];
  return items.map((v) => oneOf(v, allowed, option)).filter((v, i, a) => a.indexOf(v) === i);
}

/** Parses argv; null for --help. Steps for --from are filled in by `loadSteps`. */
export function parseSimulateArgs(argv: string[]): SimulateOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        variant: { type: 'string' },
        from: { type: 'string' },
        ...INDEX_ARG_OPTIONS,
        threads: { type: 'string', multiple: true },
        fault: { type: 'string', multiple: true },
        faults: { type: 'string', multiple: true },
        contract: { type: 'string' },
        'max-states': { type: 'string' },
        format: { type: 'string', short: 'f' },
        emit: { type: 'string' },
        repair: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split(/\.(?:\s|$)/)[0], 'simulate');
  }
  const v = parsed.values;
  if (v.help) return null;
  if (v.variant !== undefined && v.from !== undefined)
    throw new UsageError('give --variant or --from, not both', 'simulate');
  let variant: SimVariant = 'merged';
  let from: SimulateOptions['from'];
  if (v.from !== undefined) {
    const colon = v.from.lastIndexOf(':');
    if (colon <= 0 || colon === v.from.length - 1)
      throw new UsageError(`invalid --from '${v.from}': expected FILE:FUNCTION`, 'simulate');
    from = { file: v.from.slice(0, colon), function: v.from.slice(colon + 1) };
    variant = 'from-source';
  } else if (v.variant !== undefined) {
    variant = oneOf(v.variant, SIM_VARIANTS, '--variant');
    if (variant === 'from-source') throw new UsageError('variant from-source needs --from FILE:FUNCTION', 'simulate');
  }
  const threads = list<SimThread>(v.threads, SIM_THREADS, '--threads', SIM_THREADS);
  if (!threads.includes('replacer')) threads.unshift('replacer');
  const faults = list<SimFault>([...(v.fault ?? []), ...(v.faults ?? [])], SIM_FAULTS, '--fault', SIM_FAULTS);
  const contract: SimContract =
    v.contract === undefined ? 'status-quo' : oneOf(v.contract, SIM_CONTRACTS, '--contract');
  let maxStates: number | undefined;
  if (v['max-states'] !== undefined) {
    maxStates = Number(v['max-states']);
    if (!Number.isInteger(maxStates) || maxStates <= 0)
      throw new UsageError(`invalid --max-states '${v['max-states']}': expected a positive number`, 'simulate');
  }
  const emit = v.emit === undefined ? undefined : oneOf(v.emit, ['promela'] as const, '--emit');
  const format: Format = v.format === undefined ? 'text' : oneOf(v.format, FORMATS, '--format');
  if (v.repair && !from)
    throw new UsageError('--repair needs --from FILE:FUNCTION (it edits a function of yours)', 'simulate');
  if (v.repair && emit) throw new UsageError('give --repair or --emit, not both', 'simulate');
  if (v.repair && format === 'sarif') throw new UsageError('--repair writes text, json or diff, not sarif', 'simulate');
  if (!v.repair && format === 'diff') throw new UsageError('--format diff needs --repair', 'simulate');
  return {
    request: { variant, threads, faults, contract, ...(maxStates ? { maxStates } : {}) },
    from,
    format,
    emit,
    index: readIndexOptions(v, 'simulate'),
    ...(v.repair ? { repair: true } : {}),
  };
}

/** Reads FILE, builds its model with the engine, and extracts FUNCTION's steps. */
export async function loadSteps(from: { file: string; function: string }, index?: IndexOptions): Promise<SourceStep[]> {
  let text: string;
  try {
    text = readFileSync(from.file, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read ${from.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'simulate',
    );
  }
  const parser = await createParser(DEFAULT_BULK_BACKEND);
  const facts = index ? openIndex(index) : undefined;
  const engine = new Engine({ parser, ...(facts ? { facts } : {}) });
  try {
    engine.setFile(from.file, text);
    const model = engine.fileModel(from.file);
    const fn = model?.functions.find((f) => f.name === from.function);
    if (!fn) {
      const names = model?.functions.map((f) => f.name).join(', ') || 'none';
      throw new UsageError(`no function ${from.function} in ${from.file} (functions: ${names})`, 'simulate');
    }
    let steps: SourceStep[];
    try {
      steps = stepsFromSource(fn, model);
    } catch (e) {
      // Broken C (a goto to no label): a coverage problem of the function, an input error.
      if (e instanceof ReplayCoverageError) throw new UsageError(`${from.file}: ${e.message}`, 'simulate');
      throw e;
    }
    if (!isReplaceHelper(steps)) {
      throw new UsageError(
        `${from.function} does not look like a replace helper: no iopt_add_access() call found`,
        'simulate',
      );
    }
    return steps;
  } finally {
    engine.dispose();
    parser.dispose();
    if (facts) printIndexNotes(facts, 'simulate');
  }
}

/** `--repair`: the proposal, its edit and the re-analysis; exit 0 only when verified. */
async function runRepair(options: SimulateOptions, from: { file: string; function: string }): Promise<number> {
  let text: string;
  try {
    text = readFileSync(from.file, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read ${from.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'simulate',
    );
  }
  const parser = await createParser(DEFAULT_BULK_BACKEND);
  try {
    const req = options.request;
    let report;
    try {
      report = proposeRepair({
        parser,
        file: from.file,
        text,
        function: from.function,
        threads: req.threads,
        faults: req.faults,
        contract: req.contract,
        ...(req.maxStates ? { maxStates: req.maxStates } : {}),
      });
    } catch (e) {
      if (e instanceof RepairInputError) throw new UsageError(e.message, 'simulate');
      throw e;
    }
    const out =
      options.format === 'json'
        ? formatRepairJson(report)
        : options.format === 'diff'
          ? formatRepairDiff(report)
          : formatRepairText(report);
    await writeOut(process.stdout, out);
    if (options.format === 'diff' && !report.verified)
      process.stderr.write(`${repairShortfall(report) ?? 'no verified proposal'}\n`);
    // nothing to repair is not a failure
    return report.verified || report.search.broken.length === 0 ? EXIT_OK : EXIT_FINDINGS;
  } finally {
    parser.dispose();
  }
}

export async function run(argv: string[]): Promise<number> {
  const options = parseSimulateArgs(argv);
  if (!options) {
    await writeOut(process.stdout, HELP);
    return EXIT_OK;
  }
  const req = options.request;
  if (options.repair && options.from) return runRepair(options, options.from);
  if (options.from) req.steps = await loadSteps(options.from, options.index);
  if (options.emit === 'promela') {
    const title = options.from ? `${options.from.file}:${options.from.function}` : `variant ${req.variant}`;
    await writeOut(process.stdout, emitPromela(programsFor(req), req.contract, title));
    return EXIT_OK;
  }
  const result = simulate(req);
  const text =
    options.format === 'json'
      ? formatSimJson(result)
      : options.format === 'sarif'
        ? formatSimSarif(result, packageInfo().version)
        : formatSimText(result);
  await writeOut(process.stdout, text);
  return result.invariants.every((i) => i.holds) ? EXIT_OK : EXIT_FINDINGS;
}
