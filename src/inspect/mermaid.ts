import type { AnyStateMachine, AnyStateNode } from 'xstate';

interface Transition {
  target?: ReadonlyArray<AnyStateNode> | undefined;
  guard?: unknown;
  eventType: string;
}

/**
 * A Mermaid `stateDiagram-v2` of any XState v5 machine: initial states,
 * transitions labelled with their event (invoke results as `onDone(id)` /
 * `onError(id)`, delays as `after …`, eventless ones as `always`, guards in
 * brackets), nested and parallel states, final states, and each state's
 * invoked actors. Transitions without a target (actions only) do not change
 * state and are left out.
 *
 * @example
 * writeFileSync('docs/authorizationCode.mmd', toMermaid(authorizationCodeMachine));
 */
export function toMermaid(machine: Pick<AnyStateMachine, 'root'>): string {
  const ids = new Map<AnyStateNode, string>();
  const taken = new Set<string>();
  const idOf = (node: AnyStateNode): string => {
    const known = ids.get(node);
    if (known !== undefined) return known;
    const base = node.path.length === 0 ? 'root' : node.path.join('_').replace(/[^A-Za-z0-9_]/g, '_');
    let id = /^[A-Za-z_]/.test(base) ? base : `s_${base}`;
    for (let n = 2; taken.has(id); n += 1) id = `${base}_${n}`;
    taken.add(id);
    ids.set(node, id);
    return id;
  };

  const root = machine.root;
  const lines = ['stateDiagram-v2'];
  const rootEdges = edgesFrom(root, idOf);
  if (rootEdges.length > 0) {
    // The machine itself handles events (root-level `on`): draw it as a state, so those edges have a source.
    lines.push(`  state "${label(root.id)}" as ${idOf(root)}`, `  [*] --> ${idOf(root)}`, `  state ${idOf(root)} {`);
    lines.push(...block(root, idOf, '    '), '  }', ...rootEdges.map((edge) => `  ${edge}`));
  } else {
    lines.push(...block(root, idOf, '  '));
  }
  return `${lines.join('\n')}\n`;
}

/** The inside of a compound or parallel state: its children, its initial state, and its children's edges. */
function block(node: AnyStateNode, idOf: (node: AnyStateNode) => string, indent: string): string[] {
  const children = Object.values(node.states) as AnyStateNode[];
  const lines: string[] = [];
  if (node.type === 'parallel') {
    children.forEach((region, index) => {
      if (index > 0) lines.push(`${indent}--`);
      lines.push(...declare(region, idOf, indent));
    });
    return lines;
  }
  for (const child of children) lines.push(...declare(child, idOf, indent));
  if (node.type === 'compound') {
    for (const target of node.initial.target as ReadonlyArray<AnyStateNode>) lines.push(`${indent}[*] --> ${idOf(target)}`);
  }
  for (const child of children) {
    lines.push(...edgesFrom(child, idOf).map((edge) => `${indent}${edge}`));
    if (child.type === 'final') lines.push(`${indent}${idOf(child)} --> [*]`);
  }
  return lines;
}

function declare(node: AnyStateNode, idOf: (node: AnyStateNode) => string, indent: string): string[] {
  const id = idOf(node);
  const name = node.type === 'history' ? `${node.key} (history)` : node.key;
  const lines = [`${indent}state "${label(name)}" as ${id}`];
  for (const invoke of node.invoke) {
    const src = typeof invoke.src === 'string' ? invoke.src : invoke.id;
    lines.push(`${indent}${id} : invoke ${label(src)}${src === invoke.id ? '' : ` (${label(invoke.id)})`}`);
  }
  if (node.type === 'compound' || node.type === 'parallel') {
    lines.push(`${indent}state ${id} {`, ...block(node, idOf, `${indent}  `), `${indent}}`);
  }
  return lines;
}

function edgesFrom(node: AnyStateNode, idOf: (node: AnyStateNode) => string): string[] {
  const transitions: Transition[] = [...(node.transitions.values() as Iterable<Transition[]>)].flat();
  const always = (node.always ?? []) as Transition[];
  const edges: string[] = [];
  for (const transition of [...transitions, ...always]) {
    const text = transitionLabel(transition, always.includes(transition));
    for (const target of transition.target ?? []) edges.push(`${idOf(node)} --> ${idOf(target)} : ${text}`);
  }
  return edges;
}

function transitionLabel(transition: Transition, eventless: boolean): string {
  const event = eventless ? 'always' : eventLabel(transition.eventType);
  const guard = guardName(transition.guard);
  return label(guard === undefined ? event : `${event} [${guard}]`);
}

function eventLabel(type: string): string {
  const invokeResult = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
  if (invokeResult) return `${invokeResult[1] === 'done' ? 'onDone' : 'onError'}(${invokeResult[2]})`;
  const delayed = /^xstate\.after\.(.+)\.[^.]+(?:\.[^.]+)*$/.exec(type);
  if (delayed) {
    const delay = delayed[1] ?? '';
    const text = delay.split('.')[0] ?? delay;
    return `after ${/^\d+$/.test(text) ? `${text}ms` : text}`;
  }
  if (type.startsWith('xstate.done.state.')) return 'onDone';
  if (type === '*') return 'any event';
  return type;
}

function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string') return guard.type;
  return 'guard';
}

/** Mermaid ends a label at `:`/`;`/newline and a quoted name at `"`: use its entity codes instead. */
function label(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/:/g, '#58;').replace(/;/g, '#59;').replace(/\n/g, ' ');
}
