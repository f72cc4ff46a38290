/**
 * A real LSP client for the tests: spawns the built `node dist/cli.js lsp
 * --stdio` and talks to it with vscode-jsonrpc's Node message connection.
 * Records what the server pushes (diagnostics, messages, logs) and answers
 * its requests (workspace/configuration from `settings`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type { Diagnostic, InitializeResult, PublishDiagnosticsParams, WorkspaceEdit } from 'vscode-languageserver';
import { STATUS_NOTIFICATION, type AnalysisStatus } from '../../../src/lsp/protocol';

export const repoRoot = path.resolve(__dirname, '../../../..');
export const cliBundle = path.join(repoRoot, 'dist/cli.js');
/** The server entry the VS Code extension starts (src/lsp/node-server.ts). */
export const extensionServerBundle = path.join(repoRoot, 'dist/lsp-server.js');
/** What the extension forks: that entry through V8's code cache (src/lsp/node-server-start.ts). */
export const extensionStartBundle = path.join(repoRoot, 'dist/lsp-start.js');

export interface LspSession {
  proc: ChildProcessWithoutNullStreams;
  conn: MessageConnection;
  init: InitializeResult;
  /** Every publishDiagnostics, in order. */
  published: PublishDiagnosticsParams[];
  shownMessages: { type: number; message: string }[];
  logs: string[];
  /** Every workspace/applyEdit the server asked for (each is answered as applied). */
  appliedEdits: WorkspaceEdit[];
  /** Every iommufd/status notification, in order (sent only to a client that asks for them). */
  statuses: AnalysisStatus[];
  stderr: () => string;
  /** What workspace/configuration answers for section `iommufd`. */
  settings: Record<string, unknown>;
  /** Resolves with the next publishDiagnostics for `uri` that satisfies `pred`. */
  diagnostics(uri: string, pred?: (d: Diagnostic[]) => boolean, timeoutMs?: number): Promise<Diagnostic[]>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  close(): Promise<void>;
}

export interface StartOptions {
  rootUri?: string | null;
  settings?: Record<string, unknown>;
  /** Client capabilities beyond the basic ones (e.g. pull diagnostics). */
  capabilities?: Record<string, unknown>;
  initializationOptions?: unknown;
  /** The server's command line after `node` (default: the CLI's `lsp --stdio`). */
  args?: string[];
}

export async function startServer(options: StartOptions = {}): Promise<LspSession> {
  const args = options.args ?? [cliBundle, 'lsp', '--stdio'];
  if (!existsSync(args[0])) throw new Error(`${args[0]} is missing: build first (node scripts/build.mjs)`);
  const proc = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  const published: PublishDiagnosticsParams[] = [];
  const waiters: { uri: string; pred: (d: Diagnostic[]) => boolean; resolve: (d: Diagnostic[]) => void }[] = [];
  const shownMessages: { type: number; message: string }[] = [];
  const logs: string[] = [];
  const statuses: AnalysisStatus[] = [];
  const appliedEdits: WorkspaceEdit[] = [];
  const session: Partial<LspSession> = { settings: options.settings ?? {} };
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    published.push(p);
    for (const w of [...waiters]) {
      if (w.uri === p.uri && w.pred(p.diagnostics)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p.diagnostics);
      }
    }
  });
  conn.onNotification('window/showMessage', (p: { type: number; message: string }) => shownMessages.push(p));
  conn.onNotification('window/logMessage', (p: { message: string }) => logs.push(p.message));
  conn.onNotification(STATUS_NOTIFICATION, (p: AnalysisStatus) => statuses.push(p));
  conn.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) =>
    p.items.map((i) => (i.section === 'iommufd' ? session.settings : null)),
  );
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/applyEdit', (p: { edit: WorkspaceEdit }) => {
    appliedEdits.push(p.edit);
    return { applied: true };
  });
  conn.onRequest('workspace/diagnostic/refresh', () => null);
  conn.onRequest('window/showMessageRequest', () => null);
  conn.listen();
  const init = (await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: options.rootUri ?? null,
    workspaceFolders: options.rootUri ? [{ uri: options.rootUri, name: 'root' }] : null,
    initializationOptions: options.initializationOptions,
    capabilities: {
      workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } },
      textDocument: {
        synchronization: { didSave: false },
        publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true },
      },
      ...(options.capabilities ?? {}),
    },
  })) as InitializeResult;
  await conn.sendNotification('initialized', {});
  return Object.assign(session, {
    proc,
    conn,
    init,
    published,
    shownMessages,
    logs,
    statuses,
    appliedEdits,
    stderr: () => err,
    exited,
    diagnostics(uri: string, pred: (d: Diagnostic[]) => boolean = () => true, timeoutMs = 30_000) {
      return new Promise<Diagnostic[]>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no matching diagnostics for ${uri} in ${timeoutMs} ms; published: ${JSON.stringify(published.filter((p) => p.uri === uri).map((p) => p.diagnostics.map((d) => `${d.code}@${d.range.start.line}`)))}; stderr: ${err}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          uri,
          pred,
          resolve: (d) => {
            clearTimeout(timer);
            resolve(d);
          },
        });
      });
    },
    async close() {
      if (proc.exitCode === null && proc.signalCode === null) {
        // The kill is armed before the shutdown request: a server too busy to
        // answer must not keep the test file alive.
        const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
        const polite = (async () => {
          await conn.sendRequest('shutdown');
          await conn.sendNotification('exit');
        })().catch(() => undefined /* already gone */);
        await Promise.race([polite, exited]);
        await exited;
        clearTimeout(t);
      }
      conn.dispose();
    },
  }) as LspSession;
}

export function fileUri(p: string): string {
  return `file://${p.split('/').map(encodeURIComponent).join('/')}`;
}
