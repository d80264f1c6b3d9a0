/**
 * The projection says in health when its batches keep failing, and why. Seen on CI (three-broker fault test):
 * a hub's projection wrote no state for a whole run's methods for two minutes while /readyz, its log and
 * every health entry said nothing about it. Here every batch fails the same way (the state topic's contract is
 * not known to the registry client, so no state can be encoded), which the health entry must name.
 */
import { afterAll, expect, it } from 'vitest';
import { Topics } from '../../contracts/topics.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import { ContractProducer } from '../../core/bus/producer.ts';
import { ContractRegistry } from '../../core/bus/registry.ts';
import { applyEvent } from '../../core/lifecycle/applyEvent.ts';
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
const restoreEvents = uniqueName('test.projection-health.restore-events');
const restoreState = uniqueName('test.projection-health.restore-state');
let projection: MethodStateProjection | undefined;
let restoring: MethodStateProjection | undefined;
let awayProducer: ContractProducer | undefined;

afterAll(async () => {
  await projection?.stop();
  await restoring?.stop();
  await awayProducer?.disconnect();
  await producer.disconnect();
  await deleteTopics(kafka, [
    eventsTopic,
    stateTopic,
    restoreEvents,
    restoreState,
    `${eventsTopic}.dlq`,
    `${restoreEvents}.dlq`,
  ]);
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

it('says it is reading its state topic back while a restore has not ended', async () => {
  await createTopics(kafka, [restoreEvents, restoreState]);
  const [registered] = untilAwaitingDecision('ID2026_902');
  registry.alias(restoreState, Topics.methodState);
  const state = applyEvent(undefined, registered!);
  if (!state.ok) throw new Error('the registration does not apply');
  await producer.send(
    Topics.methodState,
    [
      {
        key: state.value.methodId,
        value: state.value,
        headers: newHeaders({
          id: registered!.eventId,
          source: '/test',
          type: 'no.nyemetoder.method.state',
          subject: state.value.methodId,
        }),
      },
    ],
    { to: restoreState },
  );
  // A registry nobody answers at: the state record cannot be decoded, so the restore waits out its time.
  const away = new ContractRegistry('http://127.0.0.1:9/apis/ccompat/v7').alias(
    restoreEvents,
    Topics.methodEvents,
  );
  awayProducer = new ContractProducer(kafka, away);
  restoring = new MethodStateProjection(kafka, away, awayProducer, {
    eventsTopic: restoreEvents,
    stateTopic: restoreState,
    groupId: uniqueName('test.projection-health-restore'),
    restoreTimeoutMs: 15_000,
  });
  await restoring.start();
  await produceMethodEvents(restoreEvents, [registered!]);
  await eventually(() => /reading/.test(restoring!.health().detail), 20_000, 'the restore in health');
  expect(restoring.health().detail).toMatch(
    new RegExp(`reading ${restoreState.replace(/\./g, '\\.')} back since \\S+Z`),
  );
  expect(restoring.counts.applied).toBe(0);
}, 60_000);
