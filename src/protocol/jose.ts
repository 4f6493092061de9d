/**
 * Loads the `jose` functions the library uses (`joseFunctions.ts`) on first
 * use: an application that never verifies an ID token nor signs a JWT never
 * loads them, and a bundler that splits code keeps them out of its first chunk.
 */
export type JoseFunctions = typeof import('./joseFunctions.js');

let loaded: Promise<JoseFunctions> | undefined;

/** The `jose` functions, imported once. */
export function loadJose(): Promise<JoseFunctions> {
  loaded ??= import('./joseFunctions.js');
  return loaded;
}
