/** The EU HTA JCA intake's settings, declared once; read with `loadSettings(jcaSettings, env)`. */
import { flag, positive, type Setting, text } from '../../core/config/spec.ts';

export const jcaSettings = {
  JCA_WRITE_SCOPE: {
    description: 'Scope a token needs to post JCA notifications to /jca/v1/intake.',
    default: 'eu-jca:intake:write',
    parse: text,
  },
  JCA_READ_SCOPE: {
    description: 'Scope a token needs to read JCA procedures, the timeline and rejected documents.',
    default: 'nyemetoder:methods:read',
    parse: text,
  },
  JCA_MAX_BODY_BYTES: {
    description: 'Largest JCA notification (JSON or XML) the intake reads; larger bodies get 413.',
    default: 262_144,
    parse: positive,
  },
  JCA_LINK_SCORE: {
    description: 'Score (0-1) at which the best national method is linked without a person choosing.',
    default: 0.75,
    parse: positive,
  },
  JCA_CANDIDATE_SCORE: {
    description: 'Lowest score (0-1) at which a national method is listed as a candidate.',
    default: 0.4,
    parse: positive,
  },
  JCA_AMBIGUITY_MARGIN: {
    description: 'How far (0-1) the best candidate must lead the next for the link to be made automatically.',
    default: 0.1,
    parse: positive,
  },
  JCA_SAME_INDICATION: {
    description:
      'Indication similarity (0-1) from which a national method is taken to be about the same indication as the JCA.',
    default: 0.35,
    parse: positive,
  },
  JCA_RAISE_PROPOSALS: {
    description:
      'Registers a new method (METHOD_REGISTERED, for Bestillerforum) when a JCA matches no national method.',
    default: true,
    parse: flag,
  },
  JCA_SCOPE_DUE_DAYS: {
    description:
      'Days from scoping start by which the PICO scope is expected agreed, when the notification gives no first clock stop: our planning assumption, not a legal deadline.',
    default: 90,
    parse: positive,
  },
  JCA_SCOPE_DAYS_AFTER_CLOCK_STOP: {
    description:
      "Days after EMA's first clock stop by which the PICO scope is expected agreed, when the notification gives that clock stop: the scoping starts after it (Regulation (EU) 2021/2282 art. 8 and 10, Implementing Regulation (EU) 2024/1381); the number of days is our planning assumption.",
    default: 30,
    parse: positive,
  },
  JCA_DOSSIER_DAYS_BEFORE_OPINION: {
    description:
      "Days before the expected CHMP opinion the developer's dossier is due, when the notification names no due date.",
    default: 45,
    parse: positive,
  },
  JCA_ENDORSEMENT_DAYS_AFTER_AUTHORISATION: {
    description:
      "Days after the Commission's marketing authorisation within which the draft JCA reports are endorsed: Regulation (EU) 2021/2282 art. 12.",
    default: 30,
    parse: positive,
  },
  JCA_PUBLICATION_WORKING_DAYS_AFTER_ENDORSEMENT: {
    description:
      'Working days the Commission has after the endorsement before the JCA report is published (publication is overdue only after them): Regulation (EU) 2021/2282 art. 12.',
    default: 10,
    parse: positive,
  },
  JCA_UPCOMING_DAYS: {
    description:
      'How many days ahead GET /jca/v1/timeline lists upcoming milestones, unless ?withinDays says.',
    default: 30,
    parse: positive,
  },
  JCA_SETTLE_TIMEOUT_MS: {
    description: 'How long an intake request waits for its link events to be folded before answering.',
    default: 10_000,
    parse: positive,
  },
  JCA_REJECTED_KEPT: {
    description:
      'How many rejected documents GET /jca/v1/rejected lists (all are kept on eu.jca-notifications.v1.dlq).',
    default: 500,
    parse: positive,
  },
} satisfies Record<string, Setting<unknown>>;

export type JcaConfig = { [K in keyof typeof jcaSettings]: (typeof jcaSettings)[K]['default'] };
