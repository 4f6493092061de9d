/**
 * The client entry's old path, kept so imports of `./client.js` keep working:
 * everything lives in `src/client/` (see `src/client/index.ts`).
 */
export * from './client/index.js';
