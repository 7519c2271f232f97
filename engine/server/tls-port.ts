/**
 * Valkey's `tls-port`: a TLS listener beside the plain one, serving the same engine and commands.
 * Started with the server (`tlsPort` with `tls`) or by `CONFIG SET tls-port N` once
 * `tls-cert-file` and `tls-key-file` name readable PEM files (or the server was given `tls`
 * material); `CONFIG SET tls-port 0` closes it (open connections stay). While it listens,
 * `CONFIG SET tls-cert-file|tls-key-file|tls-key-file-pass|tls-ca-cert-file` reloads the
 * certificate for new connections. A certificate that does not load leaves the running
 * configuration as it was, as in Valkey.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';

/** Key and certificate (PEM) and client-certificate rules, as `tls.createServer` takes them. */
export interface TlsMaterial {
  key: string | Buffer;
  cert: string | Buffer;
  ca?: string | Buffer | Buffer[];
  passphrase?: string;
  /** Ask clients for a certificate (`tls-auth-clients yes|optional`). */
  requestCert?: boolean;
  /** Refuse clients without a certificate the CA signed (`tls-auth-clients yes`). */
  rejectUnauthorized?: boolean;
}

/** The TLS-related Valkey parameters whose change reloads a running TLS listener. */
export const TLS_FILE_PARAMS: ReadonlySet<string> = new Set([
  'tls-cert-file',
  'tls-key-file',
  'tls-key-file-pass',
  'tls-ca-cert-file',
  'tls-ca-cert-dir',
  'tls-auth-clients',
]);

/**
 * The material the stored TLS parameters name (`get` reads a parameter's stored value), else
 * `fallback` (the server's own `tls` option) when no certificate file is configured. Null, as
 * Valkey refuses, when a key, certificate or CA (`tls-ca-cert-file` or `tls-ca-cert-dir`, required
 * by Valkey) is missing or unreadable, or they do not make a secure context. `tls-auth-clients`
 * `yes` (Valkey's default) requires a client certificate the CA signed, `optional` checks one if
 * given.
 */
export function tlsMaterialFrom(
  get: (name: string) => string,
  fallback: TlsMaterial | null,
): TlsMaterial | null {
  const certFile = get('tls-cert-file');
  const keyFile = get('tls-key-file');
  if (certFile === '' && keyFile === '') return fallback;
  const caFile = get('tls-ca-cert-file');
  const caDir = get('tls-ca-cert-dir');
  if (certFile === '' || keyFile === '' || (caFile === '' && caDir === '')) return null;
  try {
    const pass = get('tls-key-file-pass');
    const ca =
      caFile !== ''
        ? [readFileSync(caFile)]
        : readdirSync(caDir)
            .filter((f) => /\.(pem|crt)$/.test(f))
            .map((f) => readFileSync(join(caDir, f)));
    const auth = get('tls-auth-clients');
    const material: TlsMaterial = {
      cert: readFileSync(certFile),
      key: readFileSync(keyFile),
      ca,
      requestCert: auth !== 'no',
      rejectUnauthorized: auth === 'yes',
      ...(pass === '' ? {} : { passphrase: pass }),
    };
    tls.createSecureContext(material);
    return material;
  } catch {
    return null;
  }
}

/** The `tls-port` listener of one server. */
export class TlsPort {
  readonly #host: string;
  readonly #onConnection: (socket: net.Socket) => void;
  #server: tls.Server | null = null;
  #port = 0;
  /** The client-certificate rules in force (checked per connection: see #accept). */
  #auth = { request: false, require: false };

  constructor(host: string, onConnection: (socket: net.Socket) => void) {
    this.#host = host;
    this.#onConnection = onConnection;
  }

  /** The port TLS is served on; 0 when off. */
  get port(): number {
    return this.#port;
  }

  /**
   * Listens on `port` with `material` (0 = a free port); a listener on another port is closed
   * once the new one listens. Rejects (and keeps the old listener) when the port cannot be bound.
   */
  async listen(port: number, material: TlsMaterial): Promise<void> {
    // Node fixes requestCert/rejectUnauthorized at creation; asking always and judging here lets
    // CONFIG SET tls-auth-clients apply to the next connection without a new listener.
    const server = tls.createServer({ ...material, requestCert: true, rejectUnauthorized: false }, (socket) =>
      this.#accept(socket),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.#host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const old = this.#server;
    this.#server = server;
    this.#auth = authOf(material);
    this.#port = (server.address() as net.AddressInfo).port;
    old?.close();
  }

  /** New connections use `material` (a running listener only). */
  reload(material: TlsMaterial): void {
    if (this.#server === null) return;
    this.#server.setSecureContext(material);
    this.#auth = authOf(material);
  }

  #accept(socket: tls.TLSSocket): void {
    const auth = this.#auth;
    const presented = socket.getPeerCertificate().raw !== undefined;
    // tls-auth-clients yes: a certificate the CA signed is required; optional: checked if given.
    const refused = auth.request && !socket.authorized && (auth.require || presented);
    if (refused) {
      socket.destroy();
      return;
    }
    this.#onConnection(socket);
  }

  /** Whether a listener is running. */
  get listening(): boolean {
    return this.#server !== null;
  }

  /** Stops listening (open TLS connections stay until they close). */
  close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    this.#port = 0;
    if (server === null) return Promise.resolve();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The client-certificate rules of `material`. */
function authOf(material: TlsMaterial): { request: boolean; require: boolean } {
  return { request: material.requestCert === true, require: material.rejectUnauthorized === true };
}
