/** Process state shared by the readiness probe and the shutdown sequence. */
export interface Lifecycle {
  shuttingDown: boolean;
}

export const newLifecycle = (): Lifecycle => ({ shuttingDown: false });
