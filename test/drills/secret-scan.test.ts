import { shortDrill } from './support/short.ts';

shortDrill('secret-scan', 150_000);
