/**
 * The transitions of the discovery states every grant chart places
 * (`starting`'s branch to `discovering`, `discovering`, `discoveryFailed`):
 * taken in test/machines.discovery.test.ts, left out of the path replays of
 * test/machines.paths.test.ts, whose provider has its endpoints written out.
 */
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

const DISCOVERY_STATES = new Set(['discovering', 'discoveryFailed']);

export function discoveryTransitions(machine: AnyStateMachine): AnyTransitionDefinition[] {
  const found: AnyTransitionDefinition[] = [];
  const visit = (node: AnyStateNode): void => {
    for (const list of node.transitions.values()) {
      for (const transition of list) {
        const toDiscovery = transition.target?.some((target) => DISCOVERY_STATES.has(target.key)) === true;
        if (DISCOVERY_STATES.has(transition.source.key) || (transition.source.key === 'starting' && toDiscovery)) found.push(transition);
      }
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return found;
}

/**
 * The transitions of RP-initiated logout (`loggingOut`'s branch to
 * `endingProviderSession`, and `endingProviderSession`'s own): taken in
 * test/machines.endSession.test.ts, left out of the path replays, whose
 * LOGOUT asks nothing of the provider.
 */
export function providerLogoutTransitions(machine: AnyStateMachine): AnyTransitionDefinition[] {
  const found: AnyTransitionDefinition[] = [];
  const visit = (node: AnyStateNode): void => {
    for (const list of node.transitions.values()) {
      for (const transition of list) {
        const toEnding = transition.target?.some((target) => target.key === 'endingProviderSession') === true;
        if (transition.source.key === 'endingProviderSession' || toEnding) found.push(transition);
      }
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return found;
}
