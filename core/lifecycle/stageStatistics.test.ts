/** Stage statistics over hand-made states, where every figure can be worked out by hand. */
import { describe, expect, it } from 'vitest';
import type { MethodState } from '../../contracts/generated/types.ts';
import { medicineDetails } from '../demo/fixtures.ts';
import { methodEvent } from './eventBuilder.ts';
import { MethodStore } from './methodStore.ts';
import { longestWaiting, median, percentile, stageCounts, stageDurations } from './stageStatistics.ts';

const day = (n: number) => new Date(Date.UTC(2021, 0, 1) + n * 86_400_000).toISOString();

/** A method registered on day `start` that waited `wait` days before horizon scanning, then stayed there. */
function method(id: string, start: number, wait: number, specialty: string): MethodState[] {
  const store = new MethodStore();
  store.offer(
    methodEvent(
      'METHOD_REGISTERED',
      id,
      { details: medicineDetails({ specialty }) },
      { occurredAt: day(start) },
    ),
  );
  store.offer(
    methodEvent(
      'STATUS_CHANGED',
      id,
      { from: null, to: 'HORIZON_SCANNING', reason: null },
      { occurredAt: day(start + wait) },
    ),
  );
  return store.states();
}

describe('stage statistics', () => {
  const states = [
    ...method('ID2021_001', 0, 10, 'Onkologi'),
    ...method('ID2021_002', 0, 20, 'Onkologi'),
    ...method('ID2021_003', 5, 30, 'Nevrologi'),
    ...method('ID2021_004', 0, 40, 'Nevrologi'),
  ];

  it('gives median, p90 and max days over completed visits', () => {
    const [all] = stageDurations(states);
    expect(all!.group).toBe('all');
    expect(all!.stages).toEqual([
      {
        stage: 'PROPOSAL_RECEIVED',
        visits: 4,
        medianDays: 25,
        p90Days: 40,
        maxDays: 40,
        // no pauses: the stopped clock counts the same
        clockMedianDays: 25,
        clockP90Days: 40,
        clockMaxDays: 40,
      },
    ]);
  });

  it('drills down by specialty', () => {
    const groups = stageDurations(states, 'specialty');
    expect(groups.map((g) => [g.group, g.stages[0]!.medianDays])).toEqual([
      ['Nevrologi', 35],
      ['Onkologi', 15],
    ]);
  });

  it('lists who has waited longest in the stage they are in', () => {
    const [waiting] = longestWaiting(states, Date.parse(day(100)), 2);
    expect(waiting!.stage).toBe('HORIZON_SCANNING');
    expect(waiting!.methods.map((m) => [m.methodId, m.days])).toEqual([
      ['ID2021_001', 90],
      ['ID2021_002', 80],
    ]);
  });

  it('counts methods per stage, every stage listed', () => {
    const counts = stageCounts(states);
    expect(counts.HORIZON_SCANNING).toBe(4);
    expect(counts.DECIDED).toBe(0);
  });

  it('uses nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
