import { shortDrill } from './support/short.ts';

shortDrill('pool-exhaustion', 60_000);
