import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEntities, htmlToText } from '../../src/tools/web/html-text.ts';

test('html-text: structure survives as headings, lists, links and paragraphs', () => {
  const html = `<HTML><HEAD><TITLE>Page</TITLE></HEAD><BODY><H2>Sub</H2><P>a<BR>b</P>
  <OL><LI>x</LI><LI>y</LI></OL><A HREF="https://e.com/p">E</A> <a href="javascript:alert(1)">js</a>
  <a href="mailto:a@b.c">mail</a><table><tr><td>c1</td><td>c2</td></tr></table><hr><img alt="logo" src="x.png"></BODY></HTML>`;
  const text = htmlToText(html, 'https://base.example/');
  assert.equal(
    text,
    'Page\n\n## Sub\n\na\nb\n\n- x\n- y\n\n[E](https://e.com/p) js mail\n\nc1 c2\n\n---\n\nlogo',
  );
});

test('html-text: scripts, styles, templates, svg and comments disappear, even with odd casing', () => {
  const html =
    '<p>keep</p><SCRIPT>bad()</SCRIPT ><style type="x">.a{}</style><noscript>nojs</noscript>' +
    '<template><p>tpl</p></template><svg><text>svg</text></svg><!-- <p>comment</p> --><p>also keep</p>';
  assert.equal(htmlToText(html), 'keep\n\nalso keep');
});

test('html-text: entities decode, invalid code points become U+FFFD, unknown names stay', () => {
  assert.equal(decodeEntities('&lt;&gt;&amp;&quot;&#39;&#x41;&#65;&nbsp;&unknown;'), `<>&"'AA &unknown;`);
  assert.equal(decodeEntities('&#0;&#xD800;&#x110000;'), '\ufffd\ufffd\ufffd');
});

test('html-text: hostile markup (unclosed tags, comments, quotes, huge input) terminates', () => {
  // Each of these is quadratic for a naive backtracking regex converter; the test timeout is
  // the only bound asserted (timings belong in bench/).
  const n = 20_000;
  const inputs = [
    '<script>'.repeat(n),
    '<!--'.repeat(n),
    '<a href="'.repeat(n),
    '<p title="x'.repeat(n),
    `<div>${'<b>'.repeat(n)}text`,
    '< < < <<<>'.repeat(n),
    '&amp'.repeat(n),
  ];
  for (const input of inputs) assert.equal(typeof htmlToText(input), 'string');
  assert.equal(htmlToText('<p>unclosed <b>bold'), 'unclosed bold');
  assert.equal(htmlToText('a < b and c > d'), 'a < b and c > d');
});

test('html-text: placeholders cannot be forged with NUL characters', () => {
  assert.equal(htmlToText('<pre>real</pre><p>\uE0000\uE000</p>'), 'real\n\n0');
});
