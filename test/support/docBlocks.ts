/**
 * The TypeScript code blocks of README.md and every docs/*.md, with the
 * directives written before them (see "Code blocks in the documentation" in
 * README.md):
 *
 * - no directive: a complete program. It is type-checked against the
 *   package, then run in Node against the in-memory test authorization server.
 * - `<!-- vitest -->`: a complete test file; type-checked, then run with
 *   vitest against the package.
 * - `<!-- no-run: why -->`: a complete module that is type-checked but not
 *   run here (a browser page, a server that listens until stopped).
 * - `<!-- fragment -->`: part of a program. It is type-checked with the
 *   declarations the directive may carry (`<!-- fragment: declare const
 *   client: OAuthClient<'device_code'>; -->`, imports allowed) placed before
 *   it; a name it uses that nothing declares is an error, as in a program.
 * - `<!-- file: auth.ts -->`: the block is that file, so the page's other
 *   blocks import it as `./auth.js`.
 *
 * Directives are HTML comments (invisible on a rendered page) on the lines
 * right before the opening fence, one directive per comment.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type DocBlockKind = 'program' | 'test' | 'module' | 'fragment';

export interface DocBlock {
  /** `docs/server.md:101`: the page and the line of the opening fence. */
  id: string;
  /** The page, relative to the repository. */
  page: string;
  line: number;
  code: string;
  kind: DocBlockKind;
  /** A fragment's declarations. */
  declarations: string;
  /** Why a module is not run. */
  reason?: string;
  /** `file:` directive. */
  fileName?: string;
}

const FENCE = /^```(ts|typescript)\s*$/;
const DIRECTIVE = /^<!--\s*(fragment|no-run|file|vitest)\s*(?::([\s\S]*?))?\s*-->$/;

/** README.md and every docs/*.md, found afresh each time (a new page is picked up by itself). */
export function documentationPages(root: string): string[] {
  const pages = ['README.md'];
  for (const name of readdirSync(join(root, 'docs')).sort()) if (name.endsWith('.md')) pages.push(`docs/${name}`);
  return pages;
}

/** The directives in the HTML comments that end right before `line` (0-based), nearest last. */
function directivesBefore(lines: string[], line: number): string[] {
  const found: string[] = [];
  let end = line - 1;
  while (end >= 0 && lines[end]?.trimEnd().endsWith('-->')) {
    let start = end;
    while (start >= 0 && !lines[start]?.trimStart().startsWith('<!--')) start -= 1;
    if (start < 0) break;
    found.unshift(lines.slice(start, end + 1).join('\n').trim());
    end = start - 1;
  }
  return found;
}

export function docBlocks(root: string, page: string): DocBlock[] {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    if (!FENCE.test(lines[index] ?? '')) continue;
    const start = index;
    let end = start + 1;
    while (end < lines.length && !(lines[end] ?? '').startsWith('```')) end += 1;
    if (end >= lines.length) throw new Error(`${page}:${start + 1}: a code block that is never closed`);
    const block: DocBlock = {
      id: `${page}:${start + 1}`,
      page,
      line: start + 1,
      code: lines.slice(start + 1, end).join('\n'),
      kind: 'program',
      declarations: '',
    };
    for (const directive of directivesBefore(lines, start)) {
      const match = DIRECTIVE.exec(directive);
      if (!match) throw new Error(`${block.id}: unknown directive before a code block: ${directive}`);
      const [, name, value = ''] = match;
      if (name === 'fragment') {
        block.kind = 'fragment';
        block.declarations = value.trim();
      } else if (name === 'vitest') {
        block.kind = 'test';
      } else if (name === 'no-run') {
        if (value.trim() === '') throw new Error(`${block.id}: no-run needs its reason`);
        block.kind = 'module';
        block.reason = value.trim();
      } else {
        block.fileName = value.trim();
      }
    }
    blocks.push(block);
    index = end;
  }
  return blocks;
}
