/**
 * The projection says in health when its batches keep failing, and why. Seen on CI (three-broker fault test):
 * a hub's projection wrote no state for a whole run's methods for two minutes while /readyz, its log and
 * every health entry said nothing about it. Here every batch fails the same way (the state topic's contract is
 * not known to the registry client, so no state can be encoded), which the health entry must name.
 */
import { afterAll, expect, it } from 'vitest';
import { Topics } from '../../contracts/topics.ts';
import { MethodStateProjection } from '../../core/lifecycle/projection.ts';
import { untilAwaitingDecision } from '../support/financingEvents.ts';
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
const { registry, producer } = testBus(kafka);
const eventsTopic = uniqueName('test.projection-health.events');
const stateTopic = uniqueName('test.projection-health.state');
let projection: MethodStateProjection | undefined;

afterAll(async () => {
  await projection?.stop();
  await producer.disconnect();
  await deleteTopics(kafka, [eventsTopic, stateTopic, `${eventsTopic}.dlq`]);
});

it('names the failure that keeps a batch from being done, and counts the attempts', async () => {
  await createTopics(kafka, [eventsTopic, stateTopic]);
  registry.alias(eventsTopic, Topics.methodEvents); // the state topic is left without its contract
  projection = new MethodStateProjection(kafka, registry, producer, {
    eventsTopic,
    stateTopic,
    groupId: uniqueName('test.projection-health'),
  });
  await projection.start();
  expect(projection.health()).toEqual({ ok: true, detail: expect.stringContaining('no batch yet') });

  await produceMethodEvents(eventsTopic, untilAwaitingDecision('ID2026_901').slice(0, 1));
  await eventually(() => /attempt/.test(projection!.health().detail), 30_000, 'a failed batch in health');
  const health = projection.health();
  expect(health.detail).toMatch(/batches failing since \S+ \(\d+ attempt\(s\), read again by kafkajs\)/);
  expect(health.detail).toContain(`UNKNOWN_CONTRACT: no contract is declared for topic ${stateTopic}`);
  // Under a minute of failures is a hiccup (a broker moving leaders), not yet a stuck projection.
  expect(health.ok).toBe(true);
}, 60_000);
