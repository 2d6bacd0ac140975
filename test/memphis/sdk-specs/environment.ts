/**
 * Stands in for the SDK specs' `src/test/environment.ts` (which names a Memphis broker on
 * localhost as `root`): the Memphis user of the `junction dev --memphis` the global setup started.
 */
import { inject } from "vitest";

export const MemphisEnvironment = { ...inject("memphisEnvironment"), suppressLogs: true };
