/**
 * The transitions of the authorization code chart that only a pushed
 * authorization request (RFC 9126), or a configuration refused while the
 * request is made, takes: left out of the path replays of
 * test/machines.paths.test.ts, whose provider has no pushed authorization
 * request endpoint, and taken in test/machines.pushedAuthorization.test.ts,
 * which checks that it takes every one of them.
 */
export const PUSHED_AUTHORIZATION_TRANSITIONS: readonly string[] = [
  'creating --xstate.done.actor.createAuthorization [the request is pushed]--> pushing',
  'creating --xstate.error.actor.createAuthorization--> error',
  'pushing --xstate.done.actor.pushAuthorization--> opening',
  'pushing --xstate.error.actor.pushAuthorization--> error',
  'opening --xstate.error.actor.openAuthorization [the pushed request may be pushed again]--> pushing',
];
