/** The fest adapter's settings, declared once; the README's table is checked against this list. */
import { positive, text, url } from '../../core/config/spec.ts';
import { aes256Key } from '../../core/crypto/secretBox.ts';

/** A kith OID (digits and dots), as the FEST schema requires of every code set. */
const oid = (raw: string): string => {
  if (!/^(\d+\.?)*\d+$/.test(raw)) throw new Error('must be an OID such as 2.16.578.1.12.4.1.1.9901');
  return raw;
};

export const festSettings = {
  FEST_VENDOR_SCOPE: {
    description:
      'Scope a vendor token needs to read extracts and manage its webhook; the token subject names the vendor.',
    default: 'fest:vilkar:read',
    parse: text,
  },
  FEST_CODE_SET_OID: {
    description:
      "OID of our code set for the structured-condition types and the prescriber status (placeholder until one is registered in Volven); the condition group uses FEST's own 2.16.578.1.12.4.1.1.7437.",
    default: '2.16.578.1.12.4.1.1.9901',
    parse: oid,
  },
  FEST_METHOD_LINK_BASE: {
    description: 'Base of the public link to a method; the method ID is appended.',
    default: 'https://www.nyemetoder.no/metoder/',
    parse: url,
  },
  FEST_SECRET_KEY: {
    description:
      "AES-256-GCM key (base64 of 32 bytes: openssl rand -base64 32) sealing vendors' webhook secrets in fest.vendor-webhooks.v1; needed once a vendor registers, and the hub refuses to start without it (or with another) while vendors exist.",
    default: '',
    parse: aes256Key,
  },
  FEST_STATE_IMPORT_FILE: {
    description:
      'One-time import: the JSON vendor file of a hub that kept webhooks on disk; read only when fest.vendor-webhooks.v1 is empty, then never again (delete it afterwards: its secrets are in plain text). Empty: nothing is imported.',
    default: '',
    parse: text,
  },
  FEST_PUSH_BATCH: { description: 'Most conditions in one webhook POST.', default: 500, parse: positive },
  FEST_PUSH_RETRY_BASE_MS: {
    description: 'First wait before re-POSTing a failed delivery; doubles each attempt, with jitter.',
    default: 250,
    parse: positive,
  },
  FEST_PUSH_RETRY_MAX_MS: {
    description: 'Longest wait between delivery attempts; a vendor is retried until it answers 2xx.',
    default: 60_000,
    parse: positive,
  },
  FEST_PUSH_TIMEOUT_MS: {
    description: 'How long one webhook POST may take.',
    default: 10_000,
    parse: positive,
  },
  FEST_SOURCE_EXTRACT: {
    description:
      'FEST full extract whose products our conditions are linked to (a file path or an http(s) URL, the outbound URL guard applies); empty: none, GET /fest/v1/fest answers 503.',
    default: '',
    parse: text,
  },
  FEST_SOURCE_RELOAD_MS: {
    description:
      'How often the source extract is read again (also on POST /fest/v1/source/reload); a failed read keeps the last good one.',
    default: 21_600_000,
    parse: positive,
  },
  FEST_SOURCE_DIR: {
    description:
      'Where the last good copy of the source extract is kept (the merged document is streamed from it).',
    default: '.stack/fest/source',
    parse: text,
  },
};

export type FestSettings = {
  [K in keyof typeof festSettings]: (typeof festSettings)[K]['default'];
};
