/**
 * An actor whose every transition taken is recorded, for the tests that take
 * each transition of a part of a chart and then check that none was left out.
 */
import { createActor, type AnyActorRef, type AnyStateMachine, type AnyTransitionDefinition } from 'xstate';
import type { GrantInput } from '../../machines/types.js';
import { xstateClock } from '../../src/services/clock.js';
import type { Clock } from '../../src/services/types.js';

/** The transitions each machine took, over every actor made by {@link recordingActor} with this map. */
export type TakenTransitions = Map<AnyStateMachine, Set<AnyTransitionDefinition>>;

/** Starts an actor of `machine` on `input`, its delays on `clock`, adding what it takes to `taken`; its errors go to `errors`. */
export function recordingActor(machine: AnyStateMachine, input: GrantInput, clock: Clock, taken: TakenTransitions, errors: unknown[]) {
  const transitions = taken.get(machine) ?? new Set<AnyTransitionDefinition>();
  taken.set(machine, transitions);
  let actor: AnyActorRef | undefined;
  const created = createActor(machine, {
    input,
    clock: xstateClock(clock),
    inspect: (inspection) => {
      // Inspection starts while the actor is being created: only its own microsteps, once it exists.
      if (inspection.type !== '@xstate.microstep' || actor === undefined || inspection.actorRef !== actor) return;
      for (const transition of (inspection as { _transitions: AnyTransitionDefinition[] })._transitions) transitions.add(transition);
    },
  });
  actor = created;
  created.subscribe({ error: (error) => errors.push(error) });
  created.start();
  return created;
}
