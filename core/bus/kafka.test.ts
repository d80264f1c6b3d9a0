import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/spec.ts';
import { adapterPrincipal, kafkaAccessRefusal, kafkaSecurity, namingResource } from './kafka.ts';

const configOf = (env: Record<string, string>) => loadConfig(env);

describe('kafkaSecurity', () => {
  it('is plain by default', () => {
    expect(kafkaSecurity(configOf({}))).toEqual({});
  });

  it('gives SCRAM-SHA-512 over TLS for SASL_SSL', () => {
    const security = kafkaSecurity(
      configOf({
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_USERNAME: 'hub',
        KAFKA_SASL_PASSWORD: 's3cret',
      }),
    );
    expect(security).toEqual({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'hub', password: 's3cret' },
    });
  });

  it('lets an adapter run as its own principal', () => {
    const base = configOf({
      KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      KAFKA_SASL_USERNAME: 'hub',
      KAFKA_SASL_PASSWORD: 'x',
    });
    const own = adapterPrincipal('eu-jca', {
      EU_JCA_KAFKA_SASL_USERNAME: 'jca',
      EU_JCA_KAFKA_SASL_PASSWORD: 'y',
    });
    expect(own).toEqual({ username: 'jca', password: 'y' });
    expect(kafkaSecurity(base, own).sasl).toMatchObject({ username: 'jca', password: 'y' });
    expect(adapterPrincipal('fest', {})).toBeUndefined();
    expect(() => adapterPrincipal('fest', { FEST_KAFKA_SASL_USERNAME: 'fest' })).toThrow(
      'FEST_KAFKA_SASL_USERNAME and FEST_KAFKA_SASL_PASSWORD go together',
    );
  });

  it('refuses half a configuration, saying what is missing', () => {
    expect(() => kafkaSecurity(configOf({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' }))).toThrow(
      /SASL_SSL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/,
    );
    expect(() =>
      kafkaSecurity(configOf({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: '/nowhere/cert.pem' })),
    ).toThrow(/KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together/);
    expect(() => kafkaSecurity(configOf({ KAFKA_SSL_CA_FILE: '/nowhere/ca.pem' }))).toThrow(
      /KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS/,
    );
    expect(() =>
      kafkaSecurity(configOf({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: '/nowhere/ca.pem' })),
    ).toThrow(ConfigError);
  });
});

describe('kafkaAccessRefusal', () => {
  const refused = Object.assign(new Error('Not authorized to access topics: [Topic authorization failed]'), {
    type: 'TOPIC_AUTHORIZATION_FAILED',
  });

  it('names the principal, the resource and what to do', () => {
    const line = kafkaAccessRefusal(namingResource('read of topic hdir.guideline-flags.v1', refused), 'fest');
    expect(line).toBe(
      'KAFKA_NOT_AUTHORIZED: principal "fest" is refused read of topic hdir.guideline-flags.v1 (TOPIC_AUTHORIZATION_FAILED). ' +
        'Grant the ACLs `npm run topics:acls` prints for this adapter, or run it as a principal that has them.',
    );
  });

  it('passes every other error through', () => {
    const other = new Error('connect ECONNREFUSED');
    expect(namingResource('read of topic x', other)).toBe(other);
    expect(kafkaAccessRefusal(other, 'fest')).toBeUndefined();
  });
});
