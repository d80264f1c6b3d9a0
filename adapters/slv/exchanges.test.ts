/** The exchange log's backlog: what health reports as writes to SLV waiting, as each write moves on. */
import { describe, expect, it } from 'vitest';
import type { MethodEvent, SlvCaseUpdate } from '../../contracts/generated/types.ts';
import { ExchangeLog } from './exchanges.ts';

const event = (n: number) =>
  ({
    eventId: `e${n}`,
    methodId: 'ID2026_001',
    type: 'NOTE_ADDED',
    occurredAt: '2026-12-03T10:00:00Z',
  }) as unknown as MethodEvent;
const note = (n: number) =>
  ({ kind: 'note', methodId: 'ID2026_001', eventId: `e${n}`, subject: 's', text: `t${n}` }) as const;

describe('ExchangeLog.pending', () => {
  it('counts the writes not yet delivered, confirmed or dead-lettered', () => {
    const log = new ExchangeLog();
    for (let n = 1; n <= 6; n++) log.recordOutbound(event(n), note(n), { partition: 0, offset: String(n) });
    log.recordOutbound(event(1), note(1)); // folded again: still one write
    expect(log.pending).toBe(6);
    log.markDelivered('e1');
    log.markDeadLettered('e2', 'refused by SLV');
    log.markDeadLetteredAt({ partition: 0, offset: '3' }, 'refused by SLV');
    log.recordInbound({ originEventId: 'e4', changedAt: '2026-12-03T10:01:00Z' } as SlvCaseUpdate);
    expect(log.pending).toBe(2);
    log.markDeliveredBefore(new Map([[0, 6n]])); // committed up to offset 5: e5 was accepted before a restart
    expect(log.pending).toBe(1);
    expect(log.exchangesOf('ID2026_001').map((e) => e.delivery)).toEqual([
      'delivered',
      'dead-lettered',
      'dead-lettered',
      'confirmed',
      'delivered',
      'pending',
    ]);
  });

  it('a write dead-lettered after delivery stays delivered and off the backlog', () => {
    const log = new ExchangeLog();
    log.recordOutbound(event(1), note(1));
    log.markDelivered('e1');
    log.markDeadLettered('e1', 'late');
    expect([log.pending, log.exchangesOf('ID2026_001')[0]!.delivery]).toEqual([0, 'delivered']);
  });
});
