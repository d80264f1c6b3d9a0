import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { topics } from '../../contracts/topics.ts';
import {
  checkCompatibility,
  currentSchemas,
  describeTopic,
  releaseContracts,
  type SchemaUnderCheck,
} from './compatibility.ts';

const METHOD_EVENTS = 'nyemetoder.method-events.v1';

interface Field {
  name: string;
  type: unknown;
  default?: unknown;
}
interface AvroRecord {
  fields: Field[];
}

/** The current schemas, with `change` applied to a copy of one topic's schema. */
function withChange(
  topic: string,
  change: (schema: AvroRecord) => void,
  schemas = currentSchemas(),
): SchemaUnderCheck[] {
  return schemas.map((s) => {
    if (s.topic !== topic) return s;
    const copy = structuredClone(s.schema) as AvroRecord;
    change(copy);
    return { topic, schema: copy };
  });
}

const fieldOf = (schema: AvroRecord, name: string): Field => schema.fields.find((f) => f.name === name)!;

let releasedDir: string;

beforeEach(() => {
  releasedDir = mkdtempSync(join(tmpdir(), 'contracts-released-'));
  const first = releaseContracts({ releasedDir, schemas: currentSchemas() });
  expect(first.failures).toEqual([]);
  expect(first.released).toHaveLength(topics.length);
});

afterEach(() => rmSync(releasedDir, { recursive: true, force: true }));

describe('the released contracts in git', () => {
  it('are all FULL compatible with the current contracts, and every topic is released', () => {
    const report = checkCompatibility();
    expect(report.failures).toEqual([]);
    expect(report.topics.map((t) => t.topic)).toEqual(topics.map((t) => t.name));
    for (const t of report.topics) expect(t.released.length).toBeGreaterThan(0);
  });
});

describe('checkCompatibility', () => {
  it('catches a required field added without a default, naming the topic and the field', () => {
    const schemas = withChange(METHOD_EVENTS, (s) => {
      s.fields.push({ name: 'priority', type: 'string' });
    });
    const { failures } = checkCompatibility({ releasedDir, schemas });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      /^INCOMPATIBLE_CONTRACT: nyemetoder\.method-events\.v1 v1 -> current: new reader cannot read old data: priority: /,
    );
    expect(failures[0]).toContain('no default');
  });

  it('catches a required field added deep inside a nested record, with its dotted path', () => {
    const schemas = withChange(METHOD_EVENTS, (s) => {
      const decision = (fieldOf(s, 'decision').type as [string, AvroRecord])[1];
      decision.fields.push({ name: 'votes', type: 'int' });
    });
    const { failures } = checkCompatibility({ releasedDir, schemas });
    expect(failures).toEqual([
      expect.stringContaining(
        `${METHOD_EVENTS} v1 -> current: new reader cannot read old data: decision.votes:`,
      ),
    ]);
  });

  it('catches a symbol removed from an enum that has no default', () => {
    const schemas = withChange(METHOD_EVENTS, (s) => {
      const type = fieldOf(s, 'type').type as { symbols: string[]; default?: string };
      delete type.default;
      type.symbols = type.symbols.filter((symbol) => symbol !== 'NOTE_ATTACHED');
    });
    const { failures } = checkCompatibility({ releasedDir, schemas });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain(`${METHOD_EVENTS} v1 -> current: new reader cannot read old data: type:`);
    expect(failures[0]).toContain('NOTE_ATTACHED');
  });

  it('catches a field type changed from string to int, in both directions', () => {
    const schemas = withChange(METHOD_EVENTS, (s) => {
      fieldOf(s, 'source').type = 'int';
    });
    const { failures } = checkCompatibility({ releasedDir, schemas });
    expect(failures).toEqual([
      `INCOMPATIBLE_CONTRACT: ${METHOD_EVENTS} v1 -> current: new reader cannot read old data: source: the writer's string cannot be read as the reader's int`,
      `INCOMPATIBLE_CONTRACT: ${METHOD_EVENTS} v1 -> current: old reader cannot read new data: source: the writer's int cannot be read as the reader's string`,
    ]);
  });

  it('catches a required field removed: old readers still need it', () => {
    const schemas = withChange(METHOD_EVENTS, (s) => {
      s.fields = s.fields.filter((f) => f.name !== 'source');
    });
    const { failures } = checkCompatibility({ releasedDir, schemas });
    expect(failures).toEqual([expect.stringContaining('old reader cannot read new data: source:')]);
  });

  it('lists every failure of every topic, not just the first', () => {
    let schemas = withChange(METHOD_EVENTS, (s) => {
      fieldOf(s, 'source').type = 'int';
      s.fields.push({ name: 'priority', type: 'string' });
    });
    schemas = withChange(
      'fest.vilkar.v1',
      (s) => {
        fieldOf(s, 'statusCode').type = 'long';
      },
      schemas,
    );
    const report = checkCompatibility({ releasedDir, schemas });
    expect(report.failures.filter((f) => f.includes(METHOD_EVENTS))).toHaveLength(3);
    expect(report.failures.filter((f) => f.includes('fest.vilkar.v1 v1'))).toHaveLength(2);
    expect(describeTopic(report.topics.find((t) => t.topic === 'fest.vilkar.v1')!)).toContain('INCOMPATIBLE');
  });

  it('passes an additive change: a new nullable field with default null', () => {
    const schemas = withChange(METHOD_EVENTS, (s) => {
      s.fields.push({ name: 'priority', type: ['null', 'string'], default: null });
    });
    const report = checkCompatibility({ releasedDir, schemas });
    expect(report.failures).toEqual([]);
    const methodEvents = report.topics.find((t) => t.topic === METHOD_EVENTS)!;
    expect(methodEvents.unreleasedChanges).toBe(true);
    expect(describeTopic(methodEvents)).toContain('not yet released');
  });

  it('passes a symbol added to an enum whose readers have a default (Avro 1.9+)', () => {
    const schemas = withChange(METHOD_EVENTS, (s) => {
      (fieldOf(s, 'type').type as { symbols: string[] }).symbols.push('METHOD_SPLIT');
    });
    expect(checkCompatibility({ releasedDir, schemas }).failures).toEqual([]);
  });

  it('passes a topic with no released version, and says it is unreleased', () => {
    const empty = mkdtempSync(join(tmpdir(), 'contracts-none-'));
    try {
      const report = checkCompatibility({ releasedDir: empty, schemas: currentSchemas() });
      expect(report.failures).toEqual([]);
      for (const t of report.topics) expect(describeTopic(t)).toContain('unreleased');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('releaseContracts', () => {
  const versionsOf = (topic: string) => readdirSync(join(releasedDir, `${topic}-value`)).sort();

  it('releases nothing when nothing changed', () => {
    const result = releaseContracts({ releasedDir, schemas: currentSchemas() });
    expect(result.released).toEqual([]);
    expect(result.unchanged).toHaveLength(topics.length);
  });

  it('releases a compatible change as the next version, and checks later changes against every version', () => {
    const v2 = withChange(METHOD_EVENTS, (s) => {
      s.fields.push({ name: 'priority', type: ['null', 'string'], default: null });
    });
    const result = releaseContracts({ releasedDir, schemas: v2 });
    expect(result.released.map((r) => [r.topic, r.version])).toEqual([[METHOD_EVENTS, 2]]);
    expect(versionsOf(METHOD_EVENTS)).toEqual(['v1.avsc', 'v2.avsc']);

    // Dropping the field again is fine for v1 and v2 alike: it has a default.
    expect(checkCompatibility({ releasedDir, schemas: currentSchemas() }).failures).toEqual([]);
    // Making it a required string breaks against v1, which lacks it, and against v2, which may hold null.
    const v3 = withChange(METHOD_EVENTS, (s) => {
      s.fields.push({ name: 'priority', type: 'string' });
    });
    const { failures } = checkCompatibility({ releasedDir, schemas: v3 });
    expect(failures).toEqual([
      expect.stringMatching(/ v1 -> current: new reader cannot read old data: priority: .*no default/),
      expect.stringMatching(/ v2 -> current: new reader cannot read old data: priority: the writer's null /),
    ]);
  });

  it('writes nothing when any changed contract is incompatible', () => {
    let schemas = withChange(METHOD_EVENTS, (s) => {
      s.fields.push({ name: 'priority', type: ['null', 'string'], default: null });
    });
    schemas = withChange(
      'fest.vilkar.v1',
      (s) => {
        fieldOf(s, 'statusCode').type = 'long';
      },
      schemas,
    );
    const result = releaseContracts({ releasedDir, schemas });
    expect(result.released).toEqual([]);
    expect(result.failures.length).toBeGreaterThan(0);
    expect(result.failures.every((f) => f.startsWith('INCOMPATIBLE_CONTRACT: fest.vilkar.v1 v1'))).toBe(true);
    expect(existsSync(join(releasedDir, `${METHOD_EVENTS}-value`, 'v2.avsc'))).toBe(false);
  });
});
