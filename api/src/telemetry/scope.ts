import { createRequire } from 'node:module';

/** Version of our instrumentation scopes: the project's own (package.json, two levels above api/src and api/dist). */
export const SCOPE_VERSION: string = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
