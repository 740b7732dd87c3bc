import { shortDrill } from './support/short.ts';

shortDrill('fuzz', 240_000);
