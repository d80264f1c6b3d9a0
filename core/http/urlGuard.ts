/**
 * The guard on URLs a partner gives us to call (vendor webhooks): the hub must never be made to call
 * itself, its neighbours or the cloud metadata service. A URL must be https (http only when allowed for
 * development), carry no credentials, and its host, in any spelling and after resolving every address,
 * must be on the public internet, unless the host is listed as allowed anyway. Check at registration
 * and again at each send, and connect with `lookup` so the address checked is the address used.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Every address a host name resolves to. */
export type Resolver = (hostname: string) => Promise<string[]>;

export interface UrlGuardOptions {
  /** Whether plain http is allowed (local development and tests only). */
  allowHttp: boolean;
  /** Host names or IP literals allowed whatever they resolve to (lower case, as the URL spells them). */
  allowedHosts: string[];
  /** Replaces dns.lookup, for tests whose host names must never reach a real resolver. */
  resolve?: Resolver;
}

export type UrlVerdict =
  | { ok: true; url: URL; addresses: string[] }
  | { ok: false; code: 'URL_REFUSED'; reason: string };

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    ),
  );

const v4: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved or broadcast'],
];
const v6: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible'],
  ['::ffff:0:0', 96, 'IPv4-mapped'],
  ['64:ff9b::', 96, 'NAT64 (IPv4-embedded)'],
  ['100::', 64, 'discard-only'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4 (IPv4-embedded)'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

const ranges = [
  ...v4.map(([net, prefix, kind]) => ({ family: 'ipv4' as const, list: one(net, prefix, 'ipv4'), kind })),
  ...v6.map(([net, prefix, kind]) => ({ family: 'ipv6' as const, list: one(net, prefix, 'ipv6'), kind })),
];

function one(net: string, prefix: number, family: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return list;
}

/** What kind of non-public address this is, or undefined for a public one. */
export function nonPublicKind(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare) === 6 ? 'ipv6' : isIP(bare) === 4 ? 'ipv4' : undefined;
  if (!family) return 'not an IP address';
  // BlockList matches IPv4-mapped IPv6 against IPv4 rules too, so ::ffff:10.0.0.1 is "private" as well.
  return ranges.find((r) => (r.family === family || family === 'ipv6') && r.list.check(bare, family))?.kind;
}

export class UrlGuard {
  private readonly allowed: Set<string>;
  private readonly resolver: Resolver;

  constructor(private readonly options: UrlGuardOptions) {
    this.allowed = new Set(options.allowedHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
    this.resolver = options.resolve ?? systemResolver;
  }

  /** Whether `raw` may be called now; `field` names it in the reason. */
  async check(raw: string, field = 'url'): Promise<UrlVerdict> {
    const refuse = (reason: string): UrlVerdict => ({ ok: false, code: 'URL_REFUSED', reason });
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return refuse(`${field} "${raw}" is not an absolute URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.options.allowHttp))
      return refuse(
        `${field} must use https${this.options.allowHttp ? ' or http' : ''}, not ${url.protocol.replace(':', '')}`,
      );
    if (url.username || url.password)
      return refuse(`${field} must not carry credentials (user:password@); authenticate with the secret`);
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    if (this.allowed.has(host)) return { ok: true, url, addresses: [] };
    if (isIP(host)) {
      const kind = nonPublicKind(host);
      return kind
        ? refuse(
            `${field} host ${url.hostname} is not a public address (${kind}); give a public https endpoint`,
          )
        : { ok: true, url, addresses: [host] };
    }
    const name = host.replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost'))
      return refuse(`${field} host ${url.hostname} is this machine; give a public https endpoint`);
    let addresses: string[];
    try {
      addresses = await this.resolver(name);
    } catch (error) {
      return refuse(
        `${field} host ${url.hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'no answer'})`,
      );
    }
    if (addresses.length === 0) return refuse(`${field} host ${url.hostname} resolves to no address`);
    for (const address of addresses) {
      const kind = nonPublicKind(address);
      if (kind)
        return refuse(
          `${field} host ${url.hostname} resolves to ${address}, not a public address (${kind}); give a public https endpoint`,
        );
    }
    return { ok: true, url, addresses };
  }

  /**
   * A `lookup` for http.request/net.connect that resolves with this guard and fails on any non-public
   * address, so a DNS answer that changes between check and connect is caught too.
   */
  readonly lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    const host = hostname.toLowerCase();
    const answer = (addresses: string[]) => {
      const all = addresses.map((address) => ({ address, family: isIP(address) }));
      if (options.all) callback(null, all);
      else callback(null, all[0]!.address, all[0]!.family);
    };
    if (isIP(host)) {
      answer([host]);
      return;
    }
    this.resolver(host).then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(policyError(`${hostname} resolves to no address`), []);
          return;
        }
        const blocked = this.allowed.has(host) ? undefined : addresses.find((a) => nonPublicKind(a));
        if (blocked) {
          callback(
            policyError(
              `${hostname} resolves to ${blocked}, not a public address (${nonPublicKind(blocked)})`,
            ),
            [],
          );
          return;
        }
        answer(addresses);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}

export class UrlPolicyError extends Error {
  override name = 'UrlPolicyError';
  readonly code = 'URL_REFUSED';
}

const policyError = (reason: string) => new UrlPolicyError(`URL_REFUSED: ${reason}`);
