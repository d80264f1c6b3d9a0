/**
 * Issue 20: the event log was folded about five times per process (the read model, SLV, hdir, financing and eu-jca
 * each had a follower and a store of their own). The method log reads it once: every subscriber made before it
 * starts is fed by that one reading, with the state before each event and the verdict on it; one made later gets a
 * reading of its own from the start, as a restarted process would; a subscriber that throws keeps nobody else from
 * an event.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { type FoldedEvent, MethodLog } from '../../core/lifecycle/methodLog.ts';
import { decisionEvent, untilAwaitingDecision } from '../support/financingEvents.ts';
import {
  createTopics,
  deleteTopics,
  eventually,
  produceMethodEvents,
  testBus,
  testKafka,
  uniqueName,
} from '../support/kafka.ts';

const kafka = testKafka();
const topic = uniqueName('test.method-log');
const { registry } = testBus(kafka);
registry.alias(topic, 'nyemetoder.method-events.v1');
const logs: MethodLog[] = [];
const a = untilAwaitingDecision('ID2026_901');
const b = untilAwaitingDecision('ID2026_902');
/** Two methods' histories, one event sent twice, and a decision on a method nobody registered. */
const events: MethodEvent[] = [...a, ...b, a[2]!, decisionEvent('ID2026_999', 10, 'INTRODUCED')];

beforeAll(async () => {
  await createTopics(kafka, [topic], 3);
  await produceMethodEvents(topic, events);
});
afterAll(async () => {
  for (const log of logs) await log.close();
  await deleteTopics(kafka, [topic]);
});

const methodLog = () => {
  const log = new MethodLog(kafka, registry, topic);
  logs.push(log);
  return log;
};

it('feeds every subscriber from one reading, with the state before each event and the verdict on it', async () => {
  const log = methodLog();
  const first: FoldedEvent[] = [];
  const second: FoldedEvent[] = [];
  expect(log.subscribe('first', (f) => first.push(f))).toBe(log);
  expect(log.subscribe('second', (f) => second.push(f))).toBe(log);
  await log.start();
  await log.start(); // every part of the hub starts it; the reading is one
  expect(await log.waitUntilCaughtUp(30_000)).toBe(true);

  expect(first.map((f) => f.event.eventId)).toEqual(second.map((f) => f.event.eventId));
  expect(first).toHaveLength(events.length);
  const of = (id: string) => first.filter((f) => f.event.methodId === id);
  expect(of('ID2026_901').map((f) => f.verdict.outcome)).toEqual([...a.map(() => 'applied'), 'duplicate']);
  expect(of('ID2026_901')[0]!.before).toBeUndefined();
  expect(of('ID2026_901')[1]!.before?.status).toBe('PROPOSAL_RECEIVED');
  expect(of('ID2026_999').map((f) => f.verdict.outcome)).toEqual(['rejected']);
  expect(log.store.size).toBe(2);
  expect(log.store.ledger('ID2026_902')?.current?.status).toBe('AWAITING_DECISION');
}, 60_000);

it('gives a subscriber that comes once the reading has begun a reading and a fold of its own, from the start', async () => {
  const log = methodLog();
  await log.start();
  expect(await log.waitUntilCaughtUp(30_000)).toBe(true);
  const late: FoldedEvent[] = [];
  const reader = log.subscribe('late', (f) => late.push(f));
  expect(reader).not.toBe(log);
  expect(reader.store).not.toBe(log.store);
  await reader.start();
  expect(await reader.waitUntilCaughtUp(30_000)).toBe(true);
  expect(late.map((f) => f.event.eventId).sort()).toEqual(events.map((e) => e.eventId).sort());
  expect(reader.store.ledger('ID2026_901')?.current?.status).toBe('AWAITING_DECISION');
  await reader.stop();
}, 60_000);

it('keeps a subscriber that throws from keeping the others from an event', async () => {
  const log = methodLog();
  log.subscribe('thrower', () => {
    throw new Error('cannot take this one');
  });
  const taken: string[] = [];
  log.subscribe('taker', (f) => taken.push(f.event.eventId));
  await log.start();
  await eventually(
    () => taken.length === events.length,
    30_000,
    'every event given to the second subscriber',
  );
  expect(log.store.counts).toEqual({ applied: a.length + b.length, duplicate: 1, rejected: 1 });
}, 60_000);
