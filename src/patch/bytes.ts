/**
 * Byte ↔ text helpers that keep every byte: a "binary string" holds one byte
 * per UTF-16 unit, so an mbox can be split into lines before each message's
 * charset is known. (TextDecoder('latin1') is really windows-1252 and would
 * not give the same bytes back.)
 */

export function bytesToBinaryString(bytes: Uint8Array): string {
  let out = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + CHUNK)));
  }
  return out;
}

export function binaryStringToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** UTF-8 when the bytes are valid UTF-8, else ISO-8859-1 (every byte kept), saying which. */
export function decodeText(bytes: Uint8Array): { text: string; utf8: boolean } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), utf8: true };
  } catch {
    return { text: bytesToBinaryString(bytes), utf8: false };
  }
}
