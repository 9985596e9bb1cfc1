// A small HTML-to-readable-text converter (no parser dependency). It scans tags with indexOf
// instead of backtracking regular expressions, so hostile markup (unclosed tags, comments,
// quotes) costs linear time. Output: paragraphs, `#` headings, `- ` list items, `[text](url)`
// links, <pre> blocks kept verbatim; scripts, styles and other non-content elements dropped.

// Private-use character around <pre> placeholders; stripped from page text so it cannot be forged.
const MARK = '\uE000';
const PLACEHOLDER = /\uE000(\d+)\uE000/g;
const SKIP_CONTENT = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'math',
  'iframe',
  'object',
  'canvas',
]);
const BLOCK = new Set([
  'p',
  'div',
  'section',
  'article',
  'header',
  'footer',
  'nav',
  'aside',
  'main',
  'blockquote',
  'ul',
  'ol',
  'dl',
  'dt',
  'dd',
  'table',
  'thead',
  'tbody',
  'tr',
  'form',
  'fieldset',
  'figure',
  'figcaption',
  'address',
  'details',
  'summary',
  'body',
  'html',
]);

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  deg: '°',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  times: '×',
  divide: '÷',
  shy: '',
  zwj: '',
  zwnj: '',
};

export function decodeEntities(text: string): string {
  return text.replace(
    /&(#\d{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z][a-zA-Z0-9]{1,31});?/g,
    (whole, ref: string) => {
      if (ref[0] === '#') {
        const cp =
          ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
        const valid = cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
        return valid ? String.fromCodePoint(cp) : '\ufffd';
      }
      return ENTITIES[ref] ?? ENTITIES[ref.toLowerCase()] ?? whole;
    },
  );
}

export function htmlToText(html: string, baseUrl?: string): string {
  // ASCII-only lowering keeps indexes aligned with the original (String#toLowerCase can change
  // the length of some non-ASCII characters).
  const lower = html.replace(/[A-Z]+/g, (s) => s.toLowerCase());
  const parts: string[] = [];
  const blocks: string[] = [];
  let title = '';
  let link: { href: string; at: number } | undefined;
  let i = 0;
  const n = html.length;
  // Cached next '>' so text full of '<' without any '>' is not rescanned for every '<'.
  let nextGt = -2;
  const findGt = (from: number): number => {
    if (nextGt === -1 || nextGt >= from) return nextGt;
    nextGt = html.indexOf('>', from);
    return nextGt;
  };
  const skipTo = (closeTag: string, from: number): number => {
    const close = lower.indexOf(`</${closeTag}`, from);
    if (close < 0) return n;
    const gt = html.indexOf('>', close);
    return gt < 0 ? n : gt + 1;
  };
  // `i` is where unflushed text starts; `scan` is where to look for the next '<'. A '<' that
  // does not open a tag stays part of the text run instead of cutting it.
  let scan = 0;
  while (i < n) {
    if (scan < i) scan = i;
    const lt = html.indexOf('<', scan);
    if (lt < 0) {
      parts.push(inline(html.slice(i)));
      break;
    }
    const comment = html.startsWith('<!--', lt);
    const next = html.charCodeAt(lt + 1);
    const tagStart = next === 47 /* / */ || next === 33 /* ! */ || next === 63 /* ? */ || isAlpha(next);
    const gt = !comment && tagStart ? findGt(lt + 1) : -1;
    if (!comment && gt < 0) {
      scan = lt + 1;
      continue;
    }
    if (lt > i) parts.push(inline(html.slice(i, lt)));
    if (comment) {
      const end = html.indexOf('-->', lt + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    i = gt + 1;
    const inner = html.slice(lt + 1, gt);
    const m = /^(\/?)([a-zA-Z][a-zA-Z0-9-]*)/.exec(inner);
    if (!m) continue; // doctype, processing instruction, CDATA marker
    const closing = m[1] === '/';
    const name = m[2]!.toLowerCase();
    if (!closing && (SKIP_CONTENT.has(name) || name === 'head')) {
      if (name === 'head') {
        const end = skipTo('head', i);
        title ||= extractTitle(html.slice(i, end), lower.slice(i, end));
        i = end;
      } else {
        i = skipTo(name, i);
      }
      continue;
    }
    if (!closing && name === 'title') {
      const close = lower.indexOf('</title', i);
      title ||= collapse(decodeEntities(stripTags(html.slice(i, close < 0 ? n : close))));
      i = close < 0 ? n : skipTo('title', close);
      continue;
    }
    if (!closing && name === 'pre') {
      const close = lower.indexOf('</pre', i);
      const raw = html.slice(i, close < 0 ? n : close);
      blocks.push(decodeEntities(stripTags(raw)).replace(/^\n+|\s+$/g, ''));
      parts.push(`\n\n${MARK}${blocks.length - 1}${MARK}\n\n`);
      i = close < 0 ? n : skipTo('pre', close);
      continue;
    }
    if (name === 'a') {
      if (!closing) {
        const href = tagAttr(inner, 'href');
        link = href ? { href, at: parts.length } : undefined;
      } else if (link) {
        const text = collapse(parts.splice(link.at).join(''));
        const url = absoluteHttp(link.href, baseUrl);
        parts.push(text && url && url !== text ? `[${text}](${url})` : text);
        link = undefined;
      }
      continue;
    }
    if (name === 'br') parts.push('\n');
    else if (name === 'hr') parts.push('\n\n---\n\n');
    else if (name === 'li') parts.push(closing ? '' : '\n- ');
    else if (/^h[1-6]$/.test(name)) parts.push(closing ? '\n\n' : `\n\n${'#'.repeat(Number(name[1]))} `);
    else if (name === 'td' || name === 'th') parts.push(' ');
    else if (name === 'img' && !closing) {
      const alt = tagAttr(inner, 'alt');
      if (alt) parts.push(` ${collapse(alt)} `);
    } else if (BLOCK.has(name)) parts.push('\n\n');
  }
  let text = parts
    .join('')
    .split('\n')
    .map((line) => line.replace(/[ \t\f\v\r]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  text = text.replace(PLACEHOLDER, (_, k: string) => blocks[Number(k)] ?? '');
  return title && !text.startsWith(title) ? `${title}\n\n${text}`.trim() : text;
}

function inline(text: string): string {
  return decodeEntities(text.replace(/\s+/g, ' ')).replaceAll(MARK, '');
}

function collapse(text: string): string {
  return text.replaceAll(MARK, ' ').replace(/\s+/g, ' ').trim();
}

/** Plain text of an inline fragment: tags removed, entities decoded, whitespace collapsed. */
export function fragmentText(html: string): string {
  return collapse(decodeEntities(stripTags(html)));
}

function stripTags(html: string): string {
  let out = '';
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) return out + html.slice(i);
    out += html.slice(i, lt);
    const gt = html.indexOf('>', lt);
    if (gt < 0) return out + html.slice(lt);
    i = gt + 1;
  }
  return out;
}

function extractTitle(html: string, lower: string): string {
  const open = lower.indexOf('<title');
  if (open < 0) return '';
  const start = html.indexOf('>', open);
  const end = lower.indexOf('</title', start);
  if (start < 0) return '';
  return collapse(decodeEntities(html.slice(start + 1, end < 0 ? html.length : end)));
}

export function tagAttr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'i').exec(tag);
  const value = m?.[1] ?? m?.[2] ?? m?.[3];
  return value === undefined ? undefined : decodeEntities(value).trim();
}

function absoluteHttp(href: string, base?: string): string | undefined {
  try {
    const url = new URL(href, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
