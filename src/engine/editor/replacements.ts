/**
 * Editor change events → the engine's incremental edits. VS Code reports each
 * change with `rangeOffset`/`rangeLength` against the text the previous change
 * produced, which is exactly how `ParsedDocuments.edit` applies replacements.
 */
import type { Replacement } from '../parse/parsed-documents';

/** The shape of a VS Code `TextDocumentContentChangeEvent` that matters here. */
export interface OffsetChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

export function toReplacements(changes: readonly OffsetChange[]): Replacement[] {
  return changes.map((c) => ({ start: c.rangeOffset, deletedLength: c.rangeLength, inserted: c.text }));
}
