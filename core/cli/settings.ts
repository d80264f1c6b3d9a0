/** The settings of the command line (`npx metodehub`, `npm start`), declared once like the hub's. */
import { flag, type Setting, text, url } from '../config/spec.ts';

export const cliSettings = {
  METODEHUB_URL: {
    description: 'Base URL of the hub API the CLI commands call (or --hub); empty: http://HUB_HOST:HUB_PORT.',
    default: '',
    parse: url,
  },
  METODEHUB_TOKEN: {
    description:
      "Bearer token the CLI commands send (or --token); empty: one is minted from the local dev issuer's key (DEV_ISSUER_KEY_FILE).",
    default: '',
    parse: text,
  },
  METODEHUB_STAND_INS: {
    description:
      '`npm start` runs local stand-ins for DMP (SLV), Helsedirektoratet and an SMTP server where SLV_URL, HDIR_NOTIFY_URL or SMTP_HOST is unset; false: none.',
    default: true,
    parse: flag,
  },
} satisfies Record<string, Setting<unknown>>;
