import { shortDrill } from './support/short.ts';

shortDrill('collector-outage', 150_000);
