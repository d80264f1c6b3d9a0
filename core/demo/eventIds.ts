/**
 * Event ids of the demo: the same seed, method and event index always give the same id, so replaying the
 * demo a second time sends only ids the hub already has, and it drops them as duplicates.
 */
import { createHash } from 'node:crypto';

/** A name-based UUID (version 5 layout over SHA-1) for the index-th event (0-based) of a method. */
export function demoEventId(seed: number, methodId: string, index: number): string {
  const bytes = createHash('sha1')
    .update(`metodehub-demo:${seed}:${methodId}:${index}`)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
