/** The ledger and the read model: duplicates, refusals, time travel and batch judgement. */
import { describe, expect, it } from 'vitest';
import { medicineDetails } from '../demo/fixtures.ts';
import { methodEvent } from './eventBuilder.ts';
import { demoHistory } from '../demo/history.ts';
import type { MethodState } from '../../contracts/generated/types.ts';
import { CHECKPOINT_EVERY, MethodLedger } from './ledger.ts';
import { MethodStore } from './methodStore.ts';

const at = (day: number) => new Date(Date.UTC(2020, 0, day, 12)).toISOString();
const registered = (id = 'ID2020_001', day = 1) =>
  methodEvent('METHOD_REGISTERED', id, { details: medicineDetails() }, { occurredAt: at(day) });
const toStatus = (id: string, to: 'HORIZON_SCANNING' | 'AWAITING_ORDERING' | 'CLOSED', day: number) =>
  methodEvent('STATUS_CHANGED', id, { from: null, to, reason: null }, { occurredAt: at(day) });

describe('MethodLedger', () => {
  it('applies in order, drops a resent event, refuses what the state machine refuses', () => {
    const ledger = new MethodLedger('ID2020_001');
    const first = registered();
    expect(ledger.offer(first).outcome).toBe('applied');
    expect(ledger.offer(first).outcome).toBe('duplicate');
    const scan = toStatus('ID2020_001', 'HORIZON_SCANNING', 3);
    expect(ledger.offer(scan).outcome).toBe('applied');
    const back = toStatus('ID2020_001', 'HORIZON_SCANNING', 4);
    const verdict = ledger.offer(back);
    expect(verdict.outcome).toBe('rejected');
    expect(verdict.outcome === 'rejected' && verdict.errors[0]!.code).toBe('ILLEGAL_TRANSITION');
    expect(ledger.entries).toHaveLength(2);
    expect(ledger.current!.version).toBe(2);
  });

  it('answers as things stood at an instant, by when events occurred', () => {
    const ledger = new MethodLedger('ID2020_001');
    ledger.offer(registered('ID2020_001', 1));
    ledger.offer(toStatus('ID2020_001', 'HORIZON_SCANNING', 10));
    ledger.offer(toStatus('ID2020_001', 'AWAITING_ORDERING', 20));
    expect(ledger.stateAsOf(Date.parse(at(0)))).toBeUndefined();
    expect(ledger.stateAsOf(Date.parse(at(1)))!.status).toBe('PROPOSAL_RECEIVED');
    expect(ledger.stateAsOf(Date.parse(at(15)))!.status).toBe('HORIZON_SCANNING');
    expect(ledger.stateAsOf(Date.parse(at(20)))!.status).toBe('AWAITING_ORDERING');
    expect(ledger.entriesUntil(Date.parse(at(15))).map((e) => e.event.type)).toEqual([
      'METHOD_REGISTERED',
      'STATUS_CHANGED',
    ]);
  });
});

describe('MethodLedger keeping a state every CHECKPOINT_EVERY entries', () => {
  it('gives after every entry, as of every instant and for every settled event the state the fold gave then', () => {
    const store = new MethodStore();
    const folded = new Map<string, MethodState[]>();
    for (const event of demoHistory({ methods: 60 })) {
      const verdict = store.offer(event);
      if (verdict.outcome !== 'applied') continue;
      folded.set(event.methodId, [...(folded.get(event.methodId) ?? []), structuredClone(verdict.state)]);
    }
    const longest = Math.max(...[...folded.values()].map((states) => states.length));
    expect(longest).toBeGreaterThan(2 * CHECKPOINT_EVERY); // the demo has lives long enough to cross checkpoints
    for (const [methodId, states] of folded) {
      const ledger = store.ledger(methodId)!;
      expect(ledger.entries.map((e) => e.state)).toEqual(states);
      ledger.entries.forEach((entry, i) => {
        expect(store.settlementOf(entry.event.eventId)).toEqual({ outcome: 'applied', state: states[i] });
        // Entries at the same instant: as of it, the last of them.
        const last = ledger.entries.findLastIndex((e) => e.at === entry.at);
        expect(ledger.stateAsOf(entry.at)).toEqual(states[last]);
      });
      expect(ledger.current).toEqual(states.at(-1));
    }
  });
});

describe('MethodStore', () => {
  it('judges a batch as if appended in order, without recording it', () => {
    const store = new MethodStore();
    const batch = [registered('ID2020_002', 1), toStatus('ID2020_002', 'HORIZON_SCANNING', 2)];
    expect(store.judgeBatch(batch).map((v) => v.outcome)).toEqual(['applied', 'applied']);
    expect(store.size).toBe(0);
    const unknown = store.judgeBatch([toStatus('ID2020_003', 'CLOSED', 2)])[0]!;
    expect(unknown.outcome === 'rejected' && unknown.errors[0]!.code).toBe('UNKNOWN_METHOD');
  });

  it('tells a resent event from an id reused for another event', () => {
    const store = new MethodStore();
    const first = registered('ID2020_004', 1);
    store.offer(first);
    expect(store.judgeBatch([first])[0]!.outcome).toBe('duplicate');
    const reused = { ...toStatus('ID2020_004', 'CLOSED', 5), eventId: first.eventId };
    const verdict = store.judgeBatch([reused])[0]!;
    expect(verdict.outcome === 'rejected' && verdict.errors[0]!.code).toBe('EVENT_ID_REUSED');
  });

  it('filters by status, ATC prefix, substance, specialty and type, now and in the past', () => {
    const store = new MethodStore();
    store.offer(registered('ID2020_005', 1));
    store.offer(
      methodEvent(
        'METHOD_REGISTERED',
        'ID2020_006',
        {
          details: medicineDetails({
            substances: ['nusinersen'],
            atcCodes: ['M09AX07'],
            specialty: 'Nevrologi',
          }),
        },
        { occurredAt: at(2) },
      ),
    );
    store.offer(toStatus('ID2020_006', 'HORIZON_SCANNING', 9));
    expect(store.list({ atc: 'L01' }).map((s) => s.methodId)).toEqual(['ID2020_005']);
    expect(store.list({ substance: 'NUSI' }).map((s) => s.methodId)).toEqual(['ID2020_006']);
    expect(store.list({ specialty: 'nevrologi' }).map((s) => s.methodId)).toEqual(['ID2020_006']);
    expect(store.list({ status: ['HORIZON_SCANNING'] }).map((s) => s.methodId)).toEqual(['ID2020_006']);
    expect(store.list({ status: ['HORIZON_SCANNING'] }, Date.parse(at(5)))).toEqual([]);
    expect(store.list({ type: 'MEDICAL_DEVICE' })).toEqual([]);
    expect(store.states(Date.parse(at(1))).map((s) => s.methodId)).toEqual(['ID2020_005']);
  });

  it('settles the ids a writer waits for, applied or refused', async () => {
    const store = new MethodStore();
    const first = registered('ID2020_007', 1);
    const bad = toStatus('ID2020_008', 'CLOSED', 2);
    const waiting = store.whenSettled([first.eventId, bad.eventId], 1000);
    store.offer(first);
    store.offer(bad);
    expect(await waiting).toBe(true);
    expect(store.settlementOf(first.eventId)!.outcome).toBe('applied');
    expect(store.settlementOf(bad.eventId)!.outcome).toBe('rejected');
    expect(await store.whenSettled(['never-sent'], 50)).toBe(false);
  });
});
