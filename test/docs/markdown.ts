// Just enough Markdown and shell reading for the docs test: fenced blocks, links, heading anchors
// (GitHub's rules), `kheish-daemon` command lines and their words.

export interface Block {
  page: string;
  /** The fence's info string, lower-cased (`toml`, `sh`, …; empty when none). */
  lang: string;
  body: string;
  /** 1-based line of the first body line. */
  line: number;
  where: string;
}

const FENCE = /^\s*(`{3,}|~{3,})\s*([\w+-]*)/;

export function fencedBlocks(page: string, text: string): Block[] {
  const out: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trimStart().startsWith(fence)) body.push(lines[j++]!);
    out.push({
      page,
      lang: open[2]!.toLowerCase(),
      body: body.join('\n'),
      line: i + 2,
      where: `${page}:${i + 2}`,
    });
    i = j;
  }
  return out;
}

/** Lines outside fenced blocks, with their 1-based numbers. */
function proseLines(text: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let fence: string | null = null;
  text.split('\n').forEach((l, i) => {
    const m = FENCE.exec(l);
    if (fence === null && m) fence = m[1]!;
    else if (fence !== null && l.trimStart().startsWith(fence)) fence = null;
    else if (fence === null) out.push([i + 1, l]);
  });
  return out;
}

export function markdownLinks(text: string): Array<{ target: string; line: number }> {
  const out: Array<{ target: string; line: number }> = [];
  for (const [n, l] of proseLines(text)) {
    const noCode = l.replace(/`[^`]*`/g, '');
    for (const m of noCode.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g))
      out.push({ target: m[1]!, line: n });
  }
  return out;
}

/** The anchors GitHub gives a page's headings (`## Cassettes: reproduce…` → `cassettes-reproduce…`). */
export function headingSlugs(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, l] of proseLines(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (!m) continue;
    const base = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/**
 * `kheish-daemon …` invocations of a shell block: lines that start with it (after a `$ ` prompt,
 * `bin/` or `./bin/` allowed) and `$(kheish-daemon …)` substitutions; `\` continuations are joined.
 */
export function cliInvocations(block: Block): Array<{ args: string; where: string }> {
  const out: Array<{ args: string; where: string }> = [];
  const lines = block.body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) line = `${line.replace(/\\\s*$/, ' ')}${lines[++i]}`;
    const where = `${block.page}:${block.line + start}`;
    const head = /^\s*(?:\$\s+)?(?:\.?\/?bin\/)?kheish-daemon(?:\s+(.*))?$/.exec(line);
    if (head) {
      let args = head[1] ?? '';
      // A synopsis may go on over indented lines without a backslash.
      while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]!)) args += ` ${lines[++i]!.trim()}`;
      out.push({ args, where });
    }
    for (const m of line.matchAll(/\$\((?:\.?\/?bin\/)?kheish-daemon\s+([^)]*)\)/g))
      out.push({ args: m[1]!, where });
  }
  return out;
}

/** Inline code spans of the prose that start with `kheish-daemon ` (or `bin/kheish-daemon `). */
export function inlineInvocations(page: string, text: string): Array<{ args: string; where: string }> {
  const out: Array<{ args: string; where: string }> = [];
  for (const [n, l] of proseLines(text))
    for (const m of l.matchAll(/`(?:\.?\/?bin\/)?kheish-daemon\s+([^`]+)`/g))
      out.push({ args: m[1]!, where: `${page}:${n}` });
  return out;
}

/**
 * Splits a command line into words as a shell would (quotes, backslashes), stopping at a comment,
 * a pipe, `&&`, `;`, `&` or a redirection: what follows is not the CLI's business.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  // Inside `[…]` or `(…)` of a synopsis a lone `|` separates alternatives: it is not a pipe.
  let depth = 0;
  const end = () => {
    if (inWord) {
      words.push(word);
      depth += /^[[(]*/.exec(word)![0].length - /[\])]*$/.exec(word)![0].length;
    }
    word = '';
    inWord = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) end();
    else if (c === '#' && !inWord) break;
    else {
      word += c;
      inWord = true;
    }
    if (
      !quote &&
      inWord &&
      depth <= 0 &&
      /^(\||\|\||&&|;|&|\d*>.*|<)$/.test(word) &&
      (i + 1 === line.length || /\s/.test(line[i + 1]!))
    ) {
      word = '';
      inWord = false;
      break;
    }
  }
  end();
  return words;
}

/**
 * The arguments of one `kheish-daemon …` line as the docs write them: words split on spaces, a
 * single-quoted word (JSON, a sentence) kept whole without its quotes, the program name dropped.
 */
export const cliArgs = (line: string): string[] =>
  (line.match(/'[^']*'|\S+/g) ?? []).slice(1).map((w) => (w.startsWith("'") ? w.slice(1, -1) : w));

/**
 * The file a fenced block holds, as the docs name it: a path in backticks ending the last prose
 * line before the fence (`line` is the block's first line, 1-based, as fencedBlocks gives it).
 * `path` says which paths count (its first group is the path).
 */
export function fileNamedBefore(lines: readonly string[], line: number, path: RegExp): string | undefined {
  for (let i = line - 3; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (l === '') continue;
    return path.exec(l)?.[1];
  }
  return undefined;
}
