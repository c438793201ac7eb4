/**
 * Raw e-mail messages to text: the Subject and the text of the body. MIME structure, transfer
 * encodings (base64, quoted-printable) and declared character sets are decoded by postal-mime (a
 * maintained, dependency-free parser that also runs in browsers); bytes that are not valid in the
 * declared (or default UTF-8) character set are read as Latin-1, the usual charset of 2002-era mail;
 * an HTML-only body is reduced to its text here. postal-mime is an optional peer of the library
 * (the CLI installs it): loaded on the first message, with a message saying how to install it.
 */
import type PostalMimeParser from 'postal-mime';

let postalMime: Promise<typeof PostalMimeParser> | null = null;

function loadPostalMime(): Promise<typeof PostalMimeParser> {
  postalMime ??= import('postal-mime').then(
    (module) => module.default,
    (error: unknown) => {
      postalMime = null;
      throw new Error(
        `parsing e-mail needs the package postal-mime, which is not installed (${(error as Error).message}). Install it next to tfjs-sam: npm install postal-mime`,
      );
    },
  );
  return postalMime;
}

export interface MailText {
  subject: string;
  body: string;
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
};

/** The text of an HTML fragment: no comments, scripts, styles or tags; entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<\/?(br|p|div|tr|li|h[1-6]|table|blockquote)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, name: string) => {
      if (name[0] === '#') {
        const code =
          name[1] === 'x' || name[1] === 'X'
            ? parseInt(name.slice(2), 16)
            : parseInt(name.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code < 0x110000
          ? String.fromCodePoint(code)
          : ' ';
      }
      return ENTITIES[name.toLowerCase()] ?? entity;
    })
    .replace(/[ \t\r\f\v]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
}

const REPLACEMENT = /\uFFFD/g;

function replacements(mail: MailText): number {
  return (
    (mail.subject.match(REPLACEMENT)?.length ?? 0) + (mail.body.match(REPLACEMENT)?.length ?? 0)
  );
}

async function parseOnce(raw: Uint8Array): Promise<MailText> {
  const PostalMime = await loadPostalMime();
  const mail = await PostalMime.parse(raw);
  const text = mail.text?.trim() ?? '';
  const body = text !== '' ? text : mail.html ? htmlToText(mail.html) : '';
  return { subject: (mail.subject ?? '').trim(), body };
}

/** Latin-1 bytes re-encoded as UTF-8 (each byte its own code point). */
function latin1AsUtf8(raw: Uint8Array): Uint8Array {
  let text = '';
  for (let i = 0; i < raw.length; i += 8192) {
    text += String.fromCharCode(...raw.subarray(i, i + 8192));
  }
  return new TextEncoder().encode(text);
}

/** Subject and body text of one raw RFC 822 message. */
export async function parseMail(raw: Uint8Array): Promise<MailText> {
  const first = await parseOnce(raw);
  const bad = replacements(first);
  if (bad === 0) return first;
  const fallback = await parseOnce(latin1AsUtf8(raw));
  return replacements(fallback) < bad ? fallback : first;
}

/** The text a classifier reads from a message: the subject, a blank line, the body. */
export function mailText(mail: MailText): string {
  return mail.subject === '' ? mail.body : `${mail.subject}\n\n${mail.body}`;
}
