import { shortDrill } from './support/short.ts';

shortDrill('hostile', 60_000);
