/**
 * oauth-machines: an OAuth 2.1 client in which every grant is an XState v5
 * statechart. This entry holds the machines, the protocol functions, the
 * services and the promise façade; the browser, server, testing, inspect,
 * providers and legacy entries are separate imports.
 */
export * from './protocol/index.js';
export * from './services/index.js';
export * from '../machines/index.js';
export * from './client.js';
