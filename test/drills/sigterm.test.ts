import { shortDrill } from './support/short.ts';

shortDrill('sigterm', 90_000);
