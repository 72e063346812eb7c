// The outbound-address guard: the one place that decides whether Sluice may call a URL a user
// gave it (project webhooks, the GitOps connector's apiUrl). Deployed, an address inside the
// VPC, the Lambda runtime's own API on loopback or the instance metadata service must not be
// reachable through a URL someone typed, so private, loopback, link-local and metadata
// addresses are refused unless the workspace allowlists them; locally loopback is allowed (a
// receiver or a fake provider on 127.0.0.1). Checked when the URL is saved and again on every
// connection (DNS can change between the two): see `addressRefusal`.
import { BlockList, isIP } from 'node:net';
import { fieldError } from './errors.js';

export interface OutboundPolicy {
  /** True on one machine (`npm start`, tests): loopback addresses are allowed. */
  readonly allowLoopback: boolean;
  /** The workspace's allowlist: host names, IP addresses or CIDR ranges (10.0.0.0/8). */
  readonly allowlist: readonly string[];
}

/** Resolves a host name to every address it has (dns.lookup with all: true). */
export type Resolve = (host: string) => Promise<string[]>;

const ranges = (list: readonly [string, number, 'ipv4' | 'ipv6'][]): BlockList => {
  const b = new BlockList();
  for (const [net, prefix, family] of list) b.addSubnet(net, prefix, family);
  return b;
};

// Built on the first address checked, not when the module loads: every HTTP function imports this
// module (the workspace allowlist), few ever check an address.
let lists: { loopback: BlockList; linkLocal: BlockList; metadata: BlockList; private: BlockList } | undefined;
const blockLists = () =>
  (lists ??= {
    loopback: ranges([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]),
    linkLocal: ranges([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]),
    /** EC2/ECS/Lambda metadata and credential endpoints (also covered by link-local, named for the message). */
    metadata: ranges([['169.254.169.254', 32, 'ipv4'], ['169.254.170.2', 32, 'ipv4'], ['fd00:ec2::254', 128, 'ipv6']]),
    private: ranges([
      ['0.0.0.0', 8, 'ipv4'], ['10.0.0.0', 8, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.0.0.0', 24, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'], ['198.18.0.0', 15, 'ipv4'], ['224.0.0.0', 3, 'ipv4'],
      ['::', 128, 'ipv6'], ['fc00::', 7, 'ipv6'], ['ff00::', 8, 'ipv6'],
    ]),
  });

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as its IPv4 address. */
function normalize(ip: string): { ip: string; family: 'ipv4' | 'ipv6' } {
  const bare = ip.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return { ip: mapped[1]!, family: 'ipv4' };
  return { ip: bare, family: isIP(bare) === 6 ? 'ipv6' : 'ipv4' };
}

/** What kind of address this is, when it is one Sluice must not call by default. */
export function addressKind(ip: string): 'metadata' | 'loopback' | 'link-local' | 'private' | undefined {
  const { ip: a, family } = normalize(ip);
  const l = blockLists();
  if (l.metadata.check(a, family)) return 'metadata';
  if (l.loopback.check(a, family)) return 'loopback';
  if (l.linkLocal.check(a, family)) return 'link-local';
  if (l.private.check(a, family)) return 'private';
  return undefined;
}

function allowlisted(policy: OutboundPolicy, host: string, ip?: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  for (const entry of policy.allowlist) {
    const e = entry.trim().toLowerCase();
    if (e === h) return true;
    if (!ip) continue;
    const [net, prefix] = e.split('/');
    const { ip: a, family } = normalize(ip);
    if (!net || !isIP(net)) continue;
    const netFamily = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    if (netFamily !== family) continue;
    const b = new BlockList();
    if (prefix === undefined) b.addAddress(net, netFamily);
    else b.addSubnet(net, Number(prefix), netFamily);
    if (b.check(a, family)) return true;
  }
  return false;
}

/**
 * Why a connection to `ip` (reached as `host`) is refused, or undefined when it is allowed. The
 * one check both the save-time validation and the connection-time lookup use. The metadata
 * service is refused even on one machine.
 */
export function addressRefusal(policy: OutboundPolicy, host: string, ip: string): string | undefined {
  const kind = addressKind(ip);
  if (!kind) return undefined;
  if (allowlisted(policy, host, ip)) return undefined;
  if (kind === 'loopback' && policy.allowLoopback) return undefined;
  return `${host} resolves to ${ip}, a ${kind} address; add it to the workspace's outboundAllowlist to allow it`;
}

/** A valid allowlist entry: a host name, an IP address or a CIDR range. */
export function isAllowlistEntry(s: string): boolean {
  const [net, prefix, extra] = s.split('/');
  if (extra !== undefined || !net) return false;
  if (prefix !== undefined) {
    const v = isIP(net);
    return v !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (v === 6 ? 128 : 32);
  }
  return isIP(net) !== 0 || /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(net);
}

/**
 * Save-time check of a URL (400 on `field` when refused): its host's addresses as DNS answers now.
 * A host that does not resolve is refused too: the address could not be checked.
 */
export async function checkOutboundUrl(policy: OutboundPolicy, resolve: Resolve, url: URL, field: string): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      throw fieldError(field, `${host} does not resolve; give a host name DNS answers for`);
    }
    if (addresses.length === 0) throw fieldError(field, `${host} does not resolve; give a host name DNS answers for`);
  }
  for (const ip of addresses) {
    const refusal = addressRefusal(policy, host, ip);
    if (refusal) throw fieldError(field, `refused: ${refusal}`);
  }
}
