import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOCUMENTED_MACHINES, MACHINES_DOC, renderDiagrams } from '../scripts/diagrams.js';

describe('docs/machines.md', () => {
  const markdown = readFileSync(MACHINES_DOC, 'utf8');

  it('shows the current diagram of every grant machine (run npm run docs:diagrams after changing a machine)', () => {
    expect(renderDiagrams(markdown)).toBe(markdown);
  });

  it('has a diagram for each documented machine', () => {
    for (const name of Object.keys(DOCUMENTED_MACHINES)) {
      expect(markdown).toContain(`<!-- mermaid:${name}:begin`);
      expect(markdown).toMatch(new RegExp(`<!-- mermaid:${name}:begin[^>]*-->\\n\`\`\`mermaid\\nstateDiagram-v2`));
    }
  });
});
