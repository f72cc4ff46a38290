/**
 * Document URIs ↔ the engine's file keys, browser-safe (no `url` module).
 * `file:` URIs are keyed by their path, which is what findings and related
 * locations print and what context files read from disk are keyed by; any
 * other scheme (`untitled:`, a virtual file system) keys by the whole URI so
 * two buffers never collide.
 */
import { isCFile } from '../engine/editor/context-files';
import { beforeQueryOrFragment } from '../engine/text-scan';

export function keyOfUri(uri: string): string {
  const m = /^file:\/\/([^/]*)(\/.*)?$/i.exec(uri);
  if (!m) return uri;
  let path: string;
  try {
    path = decodeURIComponent(m[2] ?? '/');
  } catch {
    path = m[2] ?? '/';
  }
  // file:///c:/x on Windows: the drive letter has no leading slash in a path.
  if (/^\/[A-Za-z]:\//.test(path)) path = path.slice(1);
  return m[1] && m[1] !== 'localhost' ? `//${m[1]}${path}` : path;
}

export function uriOfKey(key: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(key) && !/^[A-Za-z]:[\\/]/.test(key)) return key;
  const path = key.replace(/\\/g, '/');
  const abs = path.startsWith('/') ? path : `/${path}`;
  return `file://${abs.split('/').map(encodeURIComponent).join('/')}`;
}

/** The last path segment of a URI or key, for messages. */
export function baseName(uriOrKey: string): string {
  const s = beforeQueryOrFragment(uriOrKey);
  return decodeSafe(s.slice(s.lastIndexOf('/') + 1)) || s;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export type DocumentKind = 'c' | 'patch' | 'other';

const C_LANGUAGES = new Set(['c', 'cpp']);
const PATCH_EXTENSIONS = /\.(patch|diff|mbox|eml)$/i;

/**
 * What the server does with a document: C sources (by language id or by
 * `.c`/`.h`, since editors disagree on the id of a header), patch mails (by
 * the extension's language id or by file name: Neovim calls an .mbox `mail`
 * and a .patch `diff`), nothing else.
 */
export function documentKind(uri: string, languageId: string): DocumentKind {
  const path = beforeQueryOrFragment(uri);
  if (languageId === 'iommufd-patch' || PATCH_EXTENSIONS.test(path)) return 'patch';
  if (C_LANGUAGES.has(languageId) || isCFile(path)) return 'c';
  return 'other';
}
