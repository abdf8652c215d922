/**
 * Just enough Markdown for the documentation tests: the user-facing files, their
 * fenced code blocks (with the HTML comment written just above one, if any),
 * their links and images outside code, and the anchors GitHub gives headings.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** README.md and every Markdown file under docs/, relative to `root`. */
export function userDocs(root = '.'): string[] {
  const docs = existsSync(join(root, 'docs'))
    ? readdirSync(join(root, 'docs'), { recursive: true }).map(String).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))
    : [];
  return ['README.md', ...docs.sort()];
}

export interface CodeBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  /** The text of an HTML comment on the line just above the fence (`<!-- run: browser -->` gives "run: browser"). */
  readonly marker: string | null;
}

const FENCE = /^(\s*)(```+|~~~+)\s*([\w+-]*)/;

export function codeBlocks(file: string, text = readFileSync(file, 'utf8')): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`).test(lines[j]); j++) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    const above = i > 0 ? /^\s*<!--\s*(.*?)\s*-->\s*$/.exec(lines[i - 1]) : null;
    blocks.push({ file, line: i + 1, lang: lang.toLowerCase(), code: body.join('\n') + '\n', marker: above?.[1] ?? null });
    i = j;
  }
  return blocks;
}

/** The text with fenced blocks blanked out (line numbers kept) and inline code spans removed. */
export function prose(text: string): string {
  const lines = text.split('\n');
  let fence: string | null = null;
  return lines.map((l) => {
    const open = FENCE.exec(l);
    if (fence === null && open) { fence = open[2]; return ''; }
    if (fence !== null) {
      if (new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`).test(l)) fence = null;
      return '';
    }
    return l.replace(/(`+)(?:(?!\1).)+?\1/g, '');
  }).join('\n');
}

export interface Link {
  readonly target: string;
  readonly line: number;
}

/** Markdown links and images, and HTML href/src attributes, outside code. */
export function links(text: string): Link[] {
  const out: Link[] = [];
  prose(text).split('\n').forEach((l, i) => {
    for (const m of l.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], line: i + 1 });
    for (const m of l.matchAll(/\b(?:href|src)="([^"]+)"/g)) out.push({ target: m[1], line: i + 1 });
  });
  return out;
}

/** The anchors GitHub makes for the headings of a Markdown text (a repeated heading gets -1, -2, ...). */
export function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fence: string | null = null;
  for (const l of text.split('\n')) {
    const open = FENCE.exec(l);
    if (fence === null && open) { fence = open[2]; continue; }
    if (fence !== null) {
      if (new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`).test(l)) fence = null;
      continue;
    }
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (!h) continue;
    const base = slug(h[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** GitHub's heading slug: lower case, punctuation dropped (hyphens and underscores kept), spaces to hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading keeps its text
    .replace(/<[^>]+>/g, '');
  return text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}
