/**
 * The package's public face for handler modules:
 * `import { batch, multiplexed, getRequestContext } from 'switchyard'`.
 */
export {};
