import { shortDrill } from './support/short.ts';

shortDrill('postgres-restart', 90_000);
