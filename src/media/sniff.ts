/** The image types Parley stores, recognised by their first bytes, never by name or declared type. */
export interface ImageType {
  mediaType: string;
  extension: string;
}

const startsWith = (bytes: Uint8Array, signature: number[], at = 0) =>
  signature.every((byte, i) => bytes[at + i] === byte);

const ascii = (text: string) => Array.from(text, (ch) => ch.charCodeAt(0));

/** Needs the first 12 bytes of the file. */
export function sniffImage(bytes: Uint8Array): ImageType | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { mediaType: "image/jpeg", extension: "jpg" };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { mediaType: "image/png", extension: "png" };
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return { mediaType: "image/gif", extension: "gif" };
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return { mediaType: "image/webp", extension: "webp" };
  return null;
}

export const SNIFF_BYTES = 12;

const TYPE_OF_EXTENSION: Record<string, string> = { jpg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp" };

/** The type sniffed at upload, which named the key's extension; anything else is opaque bytes. */
export const mediaTypeOfKey = (key: string) =>
  TYPE_OF_EXTENSION[/\.([a-z]+)$/.exec(key)?.[1] ?? ""] ?? "application/octet-stream";
