/**
 * The tags are the façades' contract (`GrantTag` in machines/types.ts): which
 * tags each state of each grant machine carries, its own and its ancestors'.
 */
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import { clientCredentialsMachine } from '../machines/clientCredentials.js';
import { deviceCodeMachine } from '../machines/deviceCode.js';
import { implicitMachine } from '../machines/legacy/implicit.js';
import { passwordMachine } from '../machines/legacy/password.js';

/** Every leaf state's dotted path, with the tags it carries while active (sorted). */
function tagsByState(machine: AnyStateMachine): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  const visit = (node: AnyStateNode, path: string[], inherited: Set<string>): void => {
    const tags = new Set([...inherited, ...node.tags]);
    const children = Object.values(node.states);
    if (children.length === 0) {
      result[path.join('.')] = [...tags].sort();
      return;
    }
    for (const child of children) visit(child, [...path, child.key], tags);
  };
  for (const child of Object.values(machine.root.states)) visit(child, [child.key], new Set());
  return result;
}

const RENEWING = ['busy', 'ready', 'renewing', 'signedIn'];
const LIFECYCLE = {
  starting: [],
  discovering: ['busy'],
  // Without `ready`: the clients' `ready` rejects with the discovery's error.
  discoveryFailed: ['error'],
  restoring: [],
  restoreFailed: ['error', 'ready'],
  idle: ['ready'],
  authenticated: ['ready', 'signedIn'],
  'refreshing.attempt.waitingForLock': RENEWING,
  'refreshing.attempt.checkingStore': RENEWING,
  'refreshing.attempt.requesting': RENEWING,
  'refreshing.retrying': RENEWING,
  loggingOut: ['busy', 'ready'],
  endingProviderSession: ['busy', 'ready'],
  error: ['error', 'ready'],
};
const REDIRECT = {
  redirecting: ['busy', 'ready'],
  awaitingCallback: ['awaitingCallback', 'ready'],
  exchanging: ['busy', 'ready'],
};

describe('the tags of every state', () => {
  it.each([
    [
      'authorization code',
      authorizationCodeMachine,
      {
        ...LIFECYCLE,
        // Making, pushing (RFC 9126) and opening the authorization request are all busy.
        'redirecting.creating': REDIRECT.redirecting,
        'redirecting.pushing': REDIRECT.redirecting,
        'redirecting.opening': REDIRECT.redirecting,
        awaitingCallback: REDIRECT.awaitingCallback,
        // The exchange waits for the session's lock, then sends; a transient failure waits, busy, to send again.
        'exchanging.waitingForLock': ['busy', 'ready'],
        'exchanging.sending': ['busy', 'ready'],
        'exchanging.waiting': ['busy', 'ready'],
      },
    ],
    ['implicit', implicitMachine, { ...LIFECYCLE, ...REDIRECT }],
    ['client credentials', clientCredentialsMachine, { ...LIFECYCLE, exchanging: ['busy', 'ready'] }],
    ['password', passwordMachine, { ...LIFECYCLE, exchanging: ['busy', 'ready'] }],
    [
      'device code',
      deviceCodeMachine,
      {
        ...LIFECYCLE,
        requestingCode: ['busy', 'ready'],
        'awaitingUser.waiting': ['awaitingUser', 'ready'],
        'awaitingUser.polling': ['awaitingUser', 'ready'],
      },
    ],
  ] as const)('%s', (_, machine, expected: Record<string, readonly string[]>) => {
    expect(tagsByState(machine)).toEqual(expected);
  });
});
