/** Baseline: XState alone, the floor under any statechart library: `createActor(createMachine({}))`. */
import { createActor, createMachine } from 'xstate';

createActor(createMachine({})).start();
