import { collectorOutage } from './collector-outage.ts';
import { destinationDown } from './destination-down.ts';
import { fuzz } from './fuzz.ts';
import { hostileInput } from './hostile.ts';
import { poolExhaustion } from './pool-exhaustion.ts';
import { postgresRestart } from './postgres-restart.ts';
import { secretScan } from './secret-scan.ts';
import { sigtermUnderLoad } from './sigterm.ts';
import type { DrillOptions, DrillResult } from './support/result.ts';

/** What a drill is given besides the database and the log: its length, and its own knobs. */
export type Length<O extends DrillOptions> = Omit<O, 'adminDatabaseUrl' | 'log'>;

interface Drill<O extends DrillOptions> {
  /** make drills */
  full: Length<O>;
  /** make test: the same drill and checks, shorter */
  short: Length<O>;
  run: (options: O) => Promise<DrillResult>;
}

const drill = <O extends DrillOptions>(d: Drill<O>) => ({ ...d, run: (options: DrillOptions, length: 'full' | 'short') => d.run({ ...options, ...d[length] } as O) });

/** Every drill, in the order of the issue, with its full and short lengths (seconds of load unless said). */
export const DRILLS = {
  'collector-outage': drill({ full: { durationS: 60 }, short: { durationS: 12 }, run: collectorOutage }),
  'postgres-restart': drill({ full: { durationS: 30 }, short: { durationS: 6 }, run: postgresRestart }),
  'pool-exhaustion': drill({ full: { durationS: 30 }, short: { durationS: 6 }, run: poolExhaustion }),
  sigterm: drill({ full: { durationS: 20 }, short: { durationS: 3 }, run: sigtermUnderLoad }),
  'destination-down': drill({ full: { durationS: 30 }, short: { durationS: 6 }, run: destinationDown }),
  // The length is in generated cases (--max-examples per operation and phase), not seconds.
  fuzz: drill({ full: { durationS: 0, maxExamples: 100, minCases: 1000 }, short: { durationS: 0, maxExamples: 6, minCases: 200, seed: 20261121 }, run: fuzz }),
  hostile: drill({ full: { durationS: 0, concurrency: 50 }, short: { durationS: 0, concurrency: 20 }, run: hostileInput }),
  'secret-scan': drill({ full: { durationS: 20 }, short: { durationS: 3 }, run: secretScan }),
};

export type DrillName = keyof typeof DRILLS;
