import { shortDrill } from './support/short.ts';

shortDrill('destination-down', 90_000);
