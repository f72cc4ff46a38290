/**
 * The open documents, with incremental sync: each `contentChanges` entry of a
 * didChange is applied in order to the text the previous one produced, and
 * its offset range is recorded so the engine can apply the same edits to its
 * syntax tree (engine/editor/replacements.ts) instead of reparsing.
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import type { OffsetChange } from '../engine/editor/replacements';
import { documentKind, keyOfUri, type DocumentKind } from './uris';

export interface OpenDocument {
  uri: string;
  /** The engine's key for it (uris.ts). */
  key: string;
  kind: DocumentKind;
  doc: TextDocument;
}

export class DocumentStore {
  private readonly docs = new Map<string, OpenDocument>();

  open(uri: string, languageId: string, version: number, text: string): OpenDocument {
    const entry: OpenDocument = {
      uri,
      key: keyOfUri(uri),
      kind: documentKind(uri, languageId),
      doc: TextDocument.create(uri, languageId, version, text),
    };
    this.docs.set(uri, entry);
    return entry;
  }

  /**
   * Applies a didChange. Returns the document and its edits as offset changes,
   * or `whole: true` when a change replaced the full text (then there is no
   * edit worth replaying). Undefined for a document that is not open.
   */
  change(
    uri: string,
    version: number,
    changes: readonly TextDocumentContentChangeEvent[],
  ): { entry: OpenDocument; edits: OffsetChange[]; whole: boolean } | undefined {
    const entry = this.docs.get(uri);
    if (!entry) return undefined;
    const edits: OffsetChange[] = [];
    let whole = false;
    let doc = entry.doc;
    for (const change of changes) {
      if ('range' in change && change.range) {
        const start = doc.offsetAt(change.range.start);
        const end = doc.offsetAt(change.range.end);
        edits.push({ rangeOffset: start, rangeLength: end - start, text: change.text });
      } else {
        whole = true;
      }
      doc = TextDocument.update(doc, [change], version);
    }
    entry.doc = doc;
    return { entry, edits, whole };
  }

  close(uri: string): OpenDocument | undefined {
    const entry = this.docs.get(uri);
    this.docs.delete(uri);
    return entry;
  }

  get(uri: string): OpenDocument | undefined {
    return this.docs.get(uri);
  }

  byKey(key: string): OpenDocument | undefined {
    for (const d of this.docs.values()) if (d.key === key) return d;
    return undefined;
  }

  all(kind?: DocumentKind): OpenDocument[] {
    return [...this.docs.values()].filter((d) => kind === undefined || d.kind === kind);
  }
}
