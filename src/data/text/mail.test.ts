import { test } from 'node:test';
import assert from 'node:assert/strict';
import { htmlToText, mailText, parseMail } from './mail.js';

const bytes = (text: string) => new TextEncoder().encode(text.replace(/\n/g, '\r\n'));

test('htmlToText: no tags, scripts, styles or comments; entities decoded', () => {
  assert.equal(
    htmlToText(
      '<html><head><title>x</title></head><body><style>p{}</style><p>Buy&nbsp;now &amp; save</p><!-- c --><script>x()</script>&#36;5&#x21;</body></html>',
    ),
    'Buy now & save\n$5!',
  );
});

test('a multipart message: encoded subject, quoted-printable text part', async () => {
  const raw = bytes(
    [
      'From: a@example.org',
      'Subject: =?utf-8?B?Q2Fmw6kgbWVldGluZw==?=',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'See you at the caf=C3=A9 at 10=3D10.',
      '--b',
      'Content-Type: text/html',
      '',
      '<p>ignored when a text part exists</p>',
      '--b--',
      '',
    ].join('\n'),
  );
  const mail = await parseMail(raw);
  assert.equal(mail.subject, 'Café meeting');
  assert.equal(mail.body, 'See you at the café at 10=10.');
  assert.equal(mailText(mail), 'Café meeting\n\nSee you at the café at 10=10.');
});

test('an HTML-only base64 body is reduced to text; undeclared 8-bit bytes are read as Latin-1', async () => {
  const html = Buffer.from('<html><body><b>FREE</b> offer</body></html>').toString('base64');
  const mail = await parseMail(
    bytes(
      `Subject: Offer\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n${html}\n`,
    ),
  );
  assert.equal(mail.body, 'FREE offer');
  const latin1 = Uint8Array.from([...bytes('Subject: hi\n\ncaf'), 0xe9, 0x0d, 0x0a]);
  assert.equal((await parseMail(latin1)).body, 'café');
});
