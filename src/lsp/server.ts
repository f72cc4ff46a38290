/**
 * The language server: LSP handlers over the analysis core. Node-free (the
 * host is injected), so the same code can run in a Web Worker; the Node
 * command is src/cli/lsp.ts. Engine mutations run in event order through one
 * queue; analysis is debounced and a run that newer typing superseded is
 * dropped before it publishes.
 */
import {
  ResponseError,
  ShowMessageNotification,
  type Connection,
  type Diagnostic,
  type InitializeResult,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import { repairShortfall } from '../report/repair';
import { LatestOnly, type RunToken } from '../engine/editor/latest-only';
import { edgesOnCycles, formatLockGraphMarkdown } from '../report/lock-graph-text';
import { Analysis, type DocumentFindings } from './analysis';
import { DocumentStore, type OpenDocument } from './documents';
import type { ServerHost } from './host';
import {
  APPLY_VERIFIED_FIX_COMMAND,
  COPY_FINDING_COMMAND,
  FILE_MODEL_REQUEST,
  VERIFIED_FIX_KIND,
  type VerifiedFixData,
  SETTLED_REQUEST,
  STATUS_NOTIFICATION,
  type AnalysisStatus,
  type FileModelAnswer,
  type FileModelParams,
  type SettledParams,
  LOCK_GRAPH_REQUEST,
  REVIEW_SERIES_REQUEST,
  SIMULATION_REQUEST,
  type LockGraphAnswer,
  type ReviewSeriesAnswer,
  type ReviewSeriesParams,
  type SimulationAnswer,
  type SimulationParams,
} from './protocol';
import { parseSettings, type ServerSettings } from './settings';
import {
  COPY_KIND,
  codeLensFor,
  copyActionFor,
  lineEdits,
  verifiedFixActionFor,
  DIAGNOSTIC_SOURCE,
  hoverFor,
  noteDiagnostic,
  toDiagnostic,
  type Placed,
} from './to-lsp';
import { baseName, keyOfUri } from './uris';

const INVALID_PARAMS = -32602;
/** LSP's RequestFailed: the request was valid but could not be answered (the search found no verified order). */
const REQUEST_FAILED = -32803;
/** The repair search's time limit: past it the action says so instead of hanging. */
const REPAIR_LIMIT_MS = 60_000;
/** How long a request waits for a pending analysis before answering with what there is. */
const SETTLE_LIMIT_MS = 30_000;
/** How long an open waits for the settings asked for at the start before using the ones it has. */
const SETTINGS_WAIT_MS = 2_000;
/** The scheduler key of the one analysis over all open C documents. */
const C_RUN = 'c';

interface Shown {
  placed: Placed[];
  diagnostics: Diagnostic[];
}

export function startServer(connection: Connection, host: ServerHost): void {
  const log = {
    info: (m: string) => connection.console.info(m),
    warn: (m: string) => connection.console.warn(m),
  };
  // window/showMessage, not showMessageRequest: nothing to answer, and some clients (Neovim) prompt for a request.
  const tell = (type: 2 | 3, message: string): void =>
    void connection.sendNotification(ShowMessageNotification.type, { type, message });
  const documents = new DocumentStore();
  const analysis = new Analysis(host, log);
  const scheduler = new LatestOnly<string>();
  const shown = new Map<string, Shown>();
  let pushDiagnostics = true;
  let pullRefresh = false;
  let configurationRequests = false;
  let settingsExplicit = false;
  let statusNotifications = false;
  let resolveEdits = false;
  /** What the last published analysis of the open C documents found: every status after it repeats it. */
  let lastResult: Pick<AnalysisStatus, 'files' | 'findings' | 'coverage' | 'elapsedMs'> = {};
  const status = (s: AnalysisStatus): void => {
    if (statusNotifications) void connection.sendNotification(STATUS_NOTIFICATION, s);
  };

  // Engine mutations and analyses in event order.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    const p = queue.then(work).catch((e: unknown) => {
      log.warn(`${what} failed: ${(e as Error)?.stack ?? String(e)}`);
      return undefined;
    });
    queue = p;
    return p;
  };
  /** Like enqueue, for a request: its failure goes back to the client as the answer. */
  const enqueueForRequest = <T>(work: () => Promise<T>): Promise<T> => {
    const p = queue.then(work);
    queue = p.catch(() => undefined);
    return p.catch((e: unknown) => {
      throw e instanceof ResponseError ? e : new ResponseError(INVALID_PARAMS, (e as Error)?.message ?? String(e));
    });
  };

  // Runs requested and not finished yet, so a pull or a hover can wait for them.
  const dirty = new Map<string, (() => void)[]>();
  const finished = (key: string): void => {
    const waiters = dirty.get(key) ?? [];
    dirty.delete(key);
    for (const w of waiters) w();
  };
  const settled = (key: string): Promise<void> => {
    if (!dirty.has(key)) return queue.then(() => undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, SETTLE_LIMIT_MS);
      dirty.get(key)!.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  };
  const runKeyOf = (entry: OpenDocument): string => (entry.kind === 'c' ? C_RUN : entry.uri);

  const show = (entry: OpenDocument, found: DocumentFindings): void => {
    const diagnostics = [
      ...found.notes.map((n) => noteDiagnostic(n.message, n.line)),
      ...found.placed.map((p) =>
        toDiagnostic(
          p,
          entry.doc,
          host.docsBaseUri,
          entry.kind === 'patch' ? { uri: entry.uri, root: found.root } : undefined,
        ),
      ),
    ];
    shown.set(entry.uri, { placed: found.placed, diagnostics });
    if (pushDiagnostics) void connection.sendDiagnostics({ uri: entry.uri, version: entry.doc.version, diagnostics });
  };
  const clear = (uri: string): void => {
    shown.delete(uri);
    if (pushDiagnostics) void connection.sendDiagnostics({ uri, diagnostics: [] });
  };
  const refreshPulls = (): void => {
    if (!pushDiagnostics && pullRefresh) void connection.languages.diagnostics.refresh();
  };

  /** One analysis of the open C documents with the context held so far; false when newer typing superseded it. */
  const analyseOpenC = async (token: RunToken): Promise<boolean> => {
    const files = { open: documents.all('c').length, context: analysis.contextCount };
    status({
      ...lastResult,
      phase: 'analysing',
      files,
      message: `analysing ${files.open} open file(s) with ${files.context} context file(s)`,
    });
    const started = Date.now();
    const byKey = await analysis.analyzeOpen();
    if (token.superseded()) return false;
    let findings = 0;
    for (const entry of documents.all('c')) {
      const found = byKey.get(entry.key) ?? { placed: [], notes: [] };
      findings += found.placed.length;
      show(entry, found);
    }
    refreshPulls();
    const elapsedMs = Date.now() - started;
    const coverage = analysis.lastResult?.coverage;
    lastResult = {
      files,
      findings,
      coverage: coverage && { files: coverage.files, functions: coverage.functions },
      elapsedMs,
    };
    status({ ...lastResult, phase: 'ready' });
    log.info(`analysed ${byKey.size} open C document(s) with ${files.context} context file(s) in ${elapsedMs} ms`);
    return true;
  };

  /**
   * The open documents' own diagnostics first, with whatever context is held;
   * then the context not read yet (their directories, the kernel tree) and,
   * when some came, the analysis again with it. Newer typing supersedes the
   * run between any two context files, so an edit never waits for the tree;
   * the next run resumes the reading where this one stopped.
   */
  const analyseC = async (token: RunToken): Promise<void> => {
    try {
      // Shown from the index at the open, and nothing changed since: an own-file run would repeat it.
      const answered = analysis.takeAnswered();
      if (!answered && !(await analyseOpenC(token))) return;
      const added = await analysis.loadContext(
        () => token.superseded(),
        (p) =>
          status({
            ...lastResult,
            phase: 'reading',
            progress: p,
            message: `reading context files: ${p.done} of ${p.total} (${p.fromIndex} from the index, ${p.done - p.fromIndex} parsed)`,
          }),
      );
      if ((!added && !answered) || token.superseded()) return;
      await analyseOpenC(token);
    } catch (e) {
      status({ phase: 'error', message: `analysis failed: ${(e as Error)?.message ?? String(e)}` });
      throw e;
    }
  };

  const reviewPatch = async (uri: string, token: RunToken): Promise<void> => {
    const entry = documents.get(uri);
    if (!entry || token.superseded()) return;
    const started = Date.now();
    const found = await analysis.reviewDocument(uri, entry.doc.getText());
    if (token.superseded() || !documents.get(uri)) return;
    show(entry, found);
    refreshPulls();
    log.info(`reviewed ${baseName(uri)}: ${found.placed.length} finding(s), ${Date.now() - started} ms`);
  };

  const schedule = (key: string, delayMs: number): void => {
    if (!dirty.has(key)) dirty.set(key, []);
    scheduler.request(key, delayMs, (token) =>
      enqueue(`analysis of ${key === C_RUN ? 'the open C documents' : baseName(key)}`, () =>
        key === C_RUN ? analyseC(token) : reviewPatch(key, token),
      ).finally(() => {
        if (!token.superseded()) finished(key);
      }),
    );
  };

  const reanalyseAll = (): void => {
    if (documents.all('c').length > 0) schedule(C_RUN, 0);
    for (const entry of documents.all('patch')) schedule(entry.uri, 0);
  };

  const applySettings = (next: ServerSettings, problems: string[]): void => {
    for (const p of problems) log.warn(`settings: ${p}`);
    if (problems.length > 0) tell(2, `iommufd-review: ${problems.join('; ')}`);
    const before = analysis.settings;
    // The same settings again (a client sends them at start, and on every change of any setting):
    // nothing to do, and a new run now would only supersede the one in progress.
    if ((Object.keys(next) as (keyof ServerSettings)[]).every((k) => before[k] === next[k])) return;
    analysis.settings = next;
    if (
      before.configFile !== next.configFile ||
      before.maxFileBytes !== next.maxFileBytes ||
      before.maxDirectoryFiles !== next.maxDirectoryFiles ||
      before.maxWorkspaceFiles !== next.maxWorkspaceFiles
    ) {
      // Knowledge and limits are fixed per engine: start again with the open documents.
      void enqueue('restart', async () => {
        analysis.reset();
        for (const entry of documents.all('c')) await analysis.setDocument(entry.key, entry.doc.getText());
        tellConfigProblems();
      });
    }
    reanalyseAll();
  };

  /** The settings pulled at the start have been applied (or could not be had). */
  let settingsArrived: Promise<void> = Promise.resolve();
  let toldConfig = '';
  const tellConfigProblems = (): void => {
    const problems = analysis.configProblems();
    const said = problems.join('\n');
    if (problems.length === 0 || said === toldConfig) return;
    toldConfig = said;
    tell(
      2,
      `iommufd-review: the configuration file was not used: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more; see the log)` : ''}`,
    );
  };

  const pullSettings = async (): Promise<void> => {
    if (!configurationRequests) return;
    try {
      const raw: unknown = await connection.workspace.getConfiguration({ section: 'iommufd' });
      const { settings, problems } = parseSettings(raw);
      applySettings(settings, problems);
    } catch (e) {
      log.warn(`workspace/configuration failed: ${(e as Error).message}`);
    }
  };

  connection.onInitialize((params): InitializeResult => {
    const caps = params.capabilities;
    configurationRequests = caps.workspace?.configuration === true;
    // A client that pulls diagnostics gets them only by pulling (and a refresh
    // when they change); one that does not gets them pushed. Both at once
    // would show every finding twice.
    pushDiagnostics = caps.textDocument?.diagnostic === undefined;
    const experimental = caps.experimental as { iommufdStatus?: unknown } | undefined;
    statusNotifications = experimental?.iommufdStatus === true;
    resolveEdits = caps.textDocument?.codeAction?.resolveSupport?.properties.includes('edit') === true;
    pullRefresh = caps.workspace?.diagnostics?.refreshSupport === true;
    const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
    analysis.roots = folders.map(keyOfUri).filter((k) => k.startsWith('/'));
    if (params.initializationOptions !== undefined && params.initializationOptions !== null) {
      const { settings, problems } = parseSettings(params.initializationOptions);
      analysis.settings = settings;
      settingsExplicit = true;
      for (const p of problems) log.warn(`initializationOptions: ${p}`);
    }
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: 2 /* Incremental */ },
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
        codeActionProvider: {
          codeActionKinds: host.repair ? [COPY_KIND, VERIFIED_FIX_KIND] : [COPY_KIND],
          resolveProvider: resolveEdits,
        },
        executeCommandProvider: {
          commands: host.repair ? [COPY_FINDING_COMMAND, APPLY_VERIFIED_FIX_COMMAND] : [COPY_FINDING_COMMAND],
        },
        // Only to a client that pulls: one that does not (VS Code's extension, to get every open buffer's diagnostics) would pull anyway.
        ...(pushDiagnostics
          ? {}
          : {
              diagnosticProvider: { identifier: 'iommufd', interFileDependencies: true, workspaceDiagnostics: false },
            }),
      },
      serverInfo: { name: 'iommufd-review', version: host.version },
    };
  });

  connection.onInitialized(() => {
    log.info(
      `iommufd-review ${host.version} language server; workspace: ${analysis.roots.join(', ') || '(none)'}; diagnostics ${pushDiagnostics ? 'pushed' : 'pulled'}`,
    );
    if (configurationRequests && !settingsExplicit)
      settingsArrived = Promise.race([
        pullSettings(),
        new Promise<void>((resolve) => setTimeout(resolve, SETTINGS_WAIT_MS)),
      ]);
    analysis.warmUp();
  });

  connection.onDidChangeConfiguration((params) => {
    const raw = params.settings as Record<string, unknown> | null | undefined;
    if (raw && typeof raw === 'object' && typeof raw.iommufd === 'object' && raw.iommufd !== null) {
      const { settings, problems } = parseSettings(raw);
      applySettings(settings, problems);
    } else if (configurationRequests) {
      void pullSettings();
    } else {
      reanalyseAll();
    }
  });

  /**
   * The open document's own diagnostics as the index remembers them for its
   * exact text and inputs, shown before the parser is needed; false when
   * there are none (or the document changed since it was opened).
   */
  const showRemembered = (entry: OpenDocument, text: string, version: number): boolean => {
    const started = Date.now();
    const found = analysis.rememberedOwn(entry.key, text);
    if (!found || documents.get(entry.uri) !== entry || entry.doc.version !== version) return false;
    show(entry, found);
    refreshPulls();
    lastResult = {
      files: { open: 1, context: 0 },
      findings: found.placed.length,
      coverage: found.coverage,
      elapsedMs: Date.now() - started,
    };
    status({ ...lastResult, phase: 'ready' });
    log.info(`own diagnostics of ${baseName(entry.uri)} from the index in ${lastResult.elapsedMs} ms`);
    return true;
  };

  connection.onDidOpenTextDocument(({ textDocument: t }) => {
    const entry = documents.open(t.uri, t.languageId, t.version, t.text);
    if (entry.kind === 'c') {
      if (!analysis.started) status({ phase: 'loading', message: 'loading the C parser' });
      void enqueue(`opening ${baseName(t.uri)}`, async () => {
        const text = entry.doc.getText();
        // the settings the client was asked for at the start are part of the remembered answer's key
        // (waited for only when there may be one: without an index, the parser's load is the wait)
        if (analysis.mayRemember(entry.key)) await settingsArrived;
        const remembered = entry.doc.version === t.version && showRemembered(entry, text, t.version);
        // The connection writes on a later turn of the event loop: let the remembered diagnostics go out
        // before the document is parsed (the process's first parse, of a whole file, can take a second).
        if (remembered) await new Promise((resolve) => setTimeout(resolve, 0));
        await analysis.setDocument(entry.key, text);
        if (remembered) analysis.markAnswered();
        tellConfigProblems();
      });
      schedule(C_RUN, 0);
    } else if (entry.kind === 'patch') {
      schedule(entry.uri, 0);
    }
  });

  connection.onDidChangeTextDocument(({ textDocument: t, contentChanges }) => {
    let changed;
    try {
      changed = documents.change(t.uri, t.version, contentChanges);
    } catch (e) {
      log.warn(`change of ${t.uri} not applied: ${(e as Error).message}`);
      return;
    }
    if (!changed) return;
    const { entry, edits, whole } = changed;
    if (entry.kind === 'c') {
      const text = entry.doc.getText();
      void enqueue(`editing ${baseName(t.uri)}`, () =>
        whole ? analysis.setDocument(entry.key, text) : analysis.editDocument(entry.key, edits, text),
      );
      schedule(C_RUN, analysis.settings.debounceMs);
    } else if (entry.kind === 'patch') {
      schedule(entry.uri, analysis.settings.debounceMs);
    }
  });

  connection.onDidCloseTextDocument(({ textDocument: t }) => {
    const entry = documents.close(t.uri);
    if (!entry) return;
    clear(t.uri);
    if (entry.kind === 'c') {
      void enqueue(`closing ${baseName(t.uri)}`, () => analysis.closeDocument(entry.key));
      schedule(C_RUN, analysis.settings.debounceMs);
    } else if (entry.kind === 'patch') {
      scheduler.cancel(entry.uri);
      finished(entry.uri);
      analysis.dropReview(entry.uri);
    }
  });

  /** The findings shown on a 0-based line of a document, after its pending analysis. */
  const placedAt = async (uri: string, line: number): Promise<Placed[]> => {
    const entry = documents.get(uri);
    if (!entry) return [];
    await settled(runKeyOf(entry));
    return (shown.get(uri)?.placed ?? []).filter((p) => p.line - 1 === line);
  };

  connection.languages.diagnostics.on(async ({ textDocument }) => {
    const entry = documents.get(textDocument.uri);
    if (entry) await settled(runKeyOf(entry));
    return { kind: 'full', items: shown.get(textDocument.uri)?.diagnostics ?? [] };
  });

  connection.onHover(
    async ({ textDocument, position }) =>
      hoverFor(await placedAt(textDocument.uri, position.line), host.docsBaseUri) ?? null,
  );

  connection.onCodeLens(async ({ textDocument }) => {
    const entry = documents.get(textDocument.uri);
    if (!entry) return [];
    await settled(runKeyOf(entry));
    return (shown.get(textDocument.uri)?.placed ?? []).map((p) => codeLensFor(p, entry.doc));
  });

  connection.onCodeAction(async ({ textDocument, range, context }) => {
    const ours = context.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE && d.code !== 'input');
    const entry = documents.get(textDocument.uri);
    const actions = [];
    for (let line = range.start.line; line <= range.end.line; line++) {
      for (const p of await placedAt(textDocument.uri, line)) {
        const diagnostic = ours.find((d) => d.range.start.line === line && d.code === p.finding.ruleId);
        // Without a diagnostic in the context the client asked for the range itself (a menu, not a lightbulb).
        if (ours.length > 0 && !diagnostic) continue;
        actions.push(copyActionFor(p, diagnostic));
        // the search edits a replace helper the simulator replays from the C source (not a patch mail's lines)
        const s = p.finding.scenario;
        if (host.repair && entry?.kind === 'c' && s.variant === 'from-source' && s.function)
          actions.push(
            verifiedFixActionFor(
              p,
              diagnostic,
              { uri: entry.uri, version: entry.doc.version, line: p.line, ruleId: p.finding.ruleId },
              resolveEdits,
            ),
          );
      }
    }
    return actions;
  });

  /**
   * The verified fix's edit for the finding `data` names, in the version it
   * names: the repair search on the host's worker thread, bounded in time.
   * Refused with the reason when the document changed, the finding is gone,
   * or no order keeps every invariant and re-analyses clean.
   */
  const verifiedFixEdit = async (data: VerifiedFixData): Promise<WorkspaceEdit> => {
    const fail = (why: string): never => {
      throw new ResponseError(REQUEST_FAILED, `iommufd-review: no verified fix: ${why}`);
    };
    const repair = host.repair;
    if (!repair) return fail('this server cannot run the repair search');
    const entry = typeof data?.uri === 'string' ? documents.get(data.uri) : undefined;
    if (!entry) return fail('the document is not open');
    const current = (): boolean => documents.get(data.uri) === entry && entry.doc.version === data.version;
    if (!current()) return fail(`${baseName(data.uri)} changed since the action was offered; ask for it again`);
    await settled(runKeyOf(entry));
    const p = shown.get(data.uri)?.placed.find((x) => x.line === data.line && x.finding.ruleId === data.ruleId);
    const s = p?.finding.scenario;
    if (!p || !s?.function) return fail(`there is no ${data.ruleId} finding on line ${data.line} any more`);
    const text = entry.doc.getText();
    const root = analysis.roots.find((r) => entry.key.startsWith(`${r}/`));
    let reply;
    try {
      reply = await repair(
        {
          // the report's diff names the file as the workspace does
          file: root ? entry.key.slice(root.length + 1) : baseName(entry.key),
          text,
          function: s.function,
          threads: s.threads.includes('replacer') ? s.threads : ['replacer', ...s.threads],
          faults: s.faults,
          contract: s.contract,
          rules: [p.finding.ruleId],
        },
        AbortSignal.timeout(REPAIR_LIMIT_MS),
      );
    } catch (e) {
      const name = (e as Error)?.name;
      return fail(
        name === 'TimeoutError' || name === 'AbortError'
          ? `the repair search took longer than ${REPAIR_LIMIT_MS / 1000} s`
          : ((e as Error)?.message ?? String(e)),
      );
    }
    if ('error' in reply) return fail(reply.error);
    const report = reply.report;
    if (!report.verified || !report.edit) return fail(repairShortfall(report) ?? 'the proposal was not verified');
    if (!current()) return fail(`${baseName(data.uri)} changed during the search; ask for the action again`);
    log.info(`verified fix of ${report.function}(): ${report.edit.replacements.length} line replacement(s)`);
    return {
      documentChanges: [
        { textDocument: { uri: data.uri, version: data.version }, edits: lineEdits(text, report.edit.replacements) },
      ],
    };
  };

  connection.onCodeActionResolve(async (action) => {
    if (action.kind !== VERIFIED_FIX_KIND || action.edit) return action;
    return { ...action, edit: await verifiedFixEdit(action.data as VerifiedFixData) };
  });

  connection.onExecuteCommand(async ({ command, arguments: args }) => {
    if (command === APPLY_VERIFIED_FIX_COMMAND) {
      const edit = await verifiedFixEdit(args?.[0] as VerifiedFixData);
      const { applied, failureReason } = await connection.workspace.applyEdit({
        label: 'iommufd-review: verified fix',
        edit,
      });
      if (!applied)
        tell(2, `iommufd-review: the verified fix was not applied${failureReason ? `: ${failureReason}` : ''}`);
      return { applied };
    }
    if (command !== COPY_FINDING_COMMAND) throw new ResponseError(INVALID_PARAMS, `unknown command ${command}`);
    const text = args?.[0];
    if (typeof text !== 'string')
      throw new ResponseError(INVALID_PARAMS, `${COPY_FINDING_COMMAND} takes the finding's text`);
    tell(3, text);
    return text;
  });

  connection.onRequest(SIMULATION_REQUEST, async (params: SimulationParams): Promise<SimulationAnswer> => {
    const uri = params?.textDocument?.uri;
    const line = params?.position?.line;
    if (typeof uri !== 'string' || typeof line !== 'number')
      throw new ResponseError(INVALID_PARAMS, `${SIMULATION_REQUEST} needs textDocument.uri and position.line`);
    if (!documents.get(uri)) throw new ResponseError(INVALID_PARAMS, `${baseName(uri)} is not open`);
    const here = (await placedAt(uri, line)).filter((p) => !params.ruleId || p.finding.ruleId === params.ruleId);
    if (here.length === 0)
      throw new ResponseError(
        INVALID_PARAMS,
        `no iommufd finding${params.ruleId ? ` of ${params.ruleId}` : ''} on line ${line + 1} of ${baseName(uri)}`,
      );
    return enqueueForRequest(async () => analysis.simulateFinding(here[0].finding));
  });

  connection.onRequest(LOCK_GRAPH_REQUEST, async (): Promise<LockGraphAnswer> => {
    await settled(C_RUN);
    const graph = analysis.lockGraph();
    const cycles = edgesOnCycles(graph);
    return {
      edges: graph.edges,
      onCycle: graph.edges.filter((e) => cycles.has(`${e.from}\u0000${e.to}`)).map((e) => ({ from: e.from, to: e.to })),
      markdown: formatLockGraphMarkdown(graph),
    };
  });

  connection.onRequest(REVIEW_SERIES_REQUEST, async (params: ReviewSeriesParams): Promise<ReviewSeriesAnswer> => {
    const open = params?.uri ? documents.get(params.uri) : undefined;
    const text = typeof params?.text === 'string' ? params.text : open?.doc.getText();
    if (text === undefined)
      throw new ResponseError(
        INVALID_PARAMS,
        `${REVIEW_SERIES_REQUEST} needs the mail text, or the uri of an open document`,
      );
    const name = params.name ?? (params.uri ? baseName(params.uri) : 'series.mbox');
    return enqueueForRequest(() =>
      analysis.review(text, name, { near: params.uri ? keyOfUri(params.uri) : undefined }),
    );
  });

  connection.onRequest(FILE_MODEL_REQUEST, async (params: FileModelParams): Promise<FileModelAnswer> => {
    if (typeof params?.file !== 'string')
      throw new ResponseError(INVALID_PARAMS, `${FILE_MODEL_REQUEST} needs the file's engine key`);
    await settled(C_RUN);
    return (await analysis.modelOf(params.file)) ?? null;
  });

  connection.onRequest(SETTLED_REQUEST, async (params: SettledParams | null): Promise<null> => {
    if (params?.reanalyze) reanalyseAll();
    await Promise.all([settled(C_RUN), ...documents.all('patch').map((e) => settled(e.uri))]);
    return null;
  });

  connection.onShutdown(() => {
    scheduler.dispose();
    analysis.dispose();
  });
}
