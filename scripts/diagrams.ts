/**
 * Writes each grant machine's Mermaid diagram (from `toMermaid`) into
 * docs/machines.md between its markers. `npm run docs:diagrams` runs it; a
 * test fails when the committed diagrams no longer match the machines.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { authorizationCodeMachine, clientCredentialsMachine, deviceCodeMachine } from '../machines/index.js';
import { implicitMachine, passwordMachine } from '../machines/legacy/index.js';
import { toMermaid } from '../src/inspect/index.js';

export const DOCUMENTED_MACHINES: Record<string, AnyStateMachine> = {
  authorizationCode: authorizationCodeMachine,
  clientCredentials: clientCredentialsMachine,
  deviceCode: deviceCodeMachine,
  password: passwordMachine,
  implicit: implicitMachine,
};

const MARKER = /(<!-- mermaid:(\w+):begin[^>]*-->)[\s\S]*?(<!-- mermaid:\2:end -->)/g;

/** The markdown with every marked diagram replaced by the machine's current one. */
export function renderDiagrams(markdown: string): string {
  return markdown.replace(MARKER, (whole, begin: string, name: string, end: string) => {
    const machine = DOCUMENTED_MACHINES[name];
    if (machine === undefined) throw new Error(`docs name an unknown machine: ${name}`);
    return `${begin}\n\`\`\`mermaid\n${toMermaid(machine).trimEnd()}\n\`\`\`\n${end}`;
  });
}

export const MACHINES_DOC = fileURLToPath(new URL('../docs/machines.md', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const before = readFileSync(MACHINES_DOC, 'utf8');
  const after = renderDiagrams(before);
  writeFileSync(MACHINES_DOC, after);
  console.log(before === after ? 'docs/machines.md: diagrams already current' : 'docs/machines.md: diagrams updated');
}
