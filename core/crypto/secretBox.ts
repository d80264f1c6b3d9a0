/**
 * Secrets the hub must store to use later (a vendor's webhook signing key), sealed with AES-256-GCM under a key
 * from the settings: what lands in Kafka cannot be read or swapped between owners (the owner is the additional
 * authenticated data) without the key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/** A setting's parse: empty, or base64 of exactly 32 bytes. */
export const aes256Key = (raw: string): string => {
  if (raw === '') return raw;
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw) || Buffer.from(raw, 'base64').length !== 32)
    throw new Error('must be base64 of 32 random bytes (openssl rand -base64 32)');
  return raw;
};

export class SecretOpenFailed extends Error {
  override name = 'SecretOpenFailed';
}

export class SecretBox {
  private readonly key: Buffer;

  constructor(base64Key: string) {
    this.key = Buffer.from(aes256Key(base64Key), 'base64');
    if (this.key.length !== 32) throw new Error('SECRET_KEY_MISSING: an AES-256 key (32 bytes) is needed');
  }

  /** `v1.<iv>.<tag>.<ciphertext>`, base64url, with a fresh 96-bit nonce. */
  seal(plaintext: string, owner: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(owner, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** The plaintext, or SecretOpenFailed when the key is not the one it was sealed with (or the text was altered). */
  open(sealed: string, owner: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || body === undefined)
      throw new SecretOpenFailed(`not a sealed secret of version ${VERSION}`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(owner, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretOpenFailed('it does not decrypt under this key');
    }
  }
}
