/**
 * Bind addresses: normalises the spellings an operator may type (`127.1`, `0x7f.1`, `[::1]`,
 * `::ffff:127.0.0.1`) to one literal, and says whether it is loopback — the whole 127.0.0.0/8, ::1
 * (and IPv4-mapped forms of them) or `localhost`. The server's rule "a non-loopback bind needs a
 * password" and the run-time password protection both ask this, so they cannot disagree.
 */
import net from 'node:net';

const loopback = new net.BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * The address literal `host` denotes (IPv4 shorthand and hex expanded by the WHATWG URL parser,
 * IPv6 compressed, brackets removed), or `host` unchanged when it is a name.
 */
export function normalizeBindAddress(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (net.isIP(bare) === 6) {
    try {
      return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
    } catch {
      return bare;
    }
  }
  if (/^[0-9a-fA-Fx.]+$/.test(bare)) {
    try {
      const h = new URL(`http://${bare}/`).hostname;
      if (net.isIPv4(h)) return h;
    } catch {
      // not an address: keep as typed
    }
  }
  return bare;
}

/** True for loopback addresses: 127.0.0.0/8, ::1, their IPv4-mapped forms, and `localhost`. */
export function isLoopback(host: string): boolean {
  const address = normalizeBindAddress(host);
  if (address.toLowerCase() === 'localhost') return true;
  const family = net.isIP(address);
  if (family === 0) return false;
  return loopback.check(address, family === 6 ? 'ipv6' : 'ipv4');
}
