/**
 * The inbound side's durable state: the delta link of SLV's change tracking and what it last saw of each
 * case, in one JSON file written atomically (temporary file, fsync, rename). It is saved only after the
 * changes it covers are in Kafka, so a restart resumes from the last saved link: no gap, and a replayed
 * change carries the same change id, so it is not emitted twice.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaseSnapshot, IntendedWrite } from './mapping.ts';

export interface InboundState {
  /** Null before the first full load. */
  deltaLink: string | null;
  /** By SLV case id (GUID). */
  cases: Record<string, CaseSnapshot>;
  /** Writes sent to SLV whose answer is not yet recorded, by method id (absent in older state files). */
  intendedWrites?: Record<string, IntendedWrite>;
  savedAt: string | null;
}

export class InboundStateFile {
  readonly path: string;

  constructor(private readonly directory: string) {
    this.path = join(directory, 'slv-inbound-state.json');
  }

  async load(): Promise<InboundState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { deltaLink: null, cases: {}, savedAt: null };
      throw error;
    }
    try {
      const state = JSON.parse(text) as InboundState;
      if (typeof state !== 'object' || state === null || typeof state.cases !== 'object')
        throw new Error('no cases');
      return state;
    } catch (error) {
      throw new Error(
        `SLV_STATE_UNREADABLE: ${this.path} is not a state file (${(error as Error).message}); move it away to start again with a full load`,
      );
    }
  }

  async save(state: InboundState): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(JSON.stringify({ ...state, savedAt: new Date().toISOString() }));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.path);
  }
}
