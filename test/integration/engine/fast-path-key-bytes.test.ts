/**
 * A key the GET/SET fast path stores (looked up by its bytes) is the same key the full dispatch,
 * the other commands and the in-process API see: UTF-8 and invalid UTF-8 key bytes, against a real
 * valkey-server.
 */
import { describe, expect, it } from 'vitest';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();
const P = `fastkey:${process.pid}:`;

const utf8 = Buffer.concat([Buffer.from(P), Buffer.from('caf\u00e9', 'utf8')]); // … 0xC3 0xA9
const invalid = Buffer.concat([Buffer.from(P), Buffer.from([0xc3, 0x28, 0xff, 0x00])]);

describe('GET/SET fast path: key identity by bytes', () => {
  it('a key set and read on the fast path is the key every other command sees', async () => {
    const run = async (port: number): Promise<string[]> => {
      const c = await RawClient.connect(port);
      try {
        const cmds: (string | Buffer)[][] = [];
        for (const key of [utf8, invalid]) {
          cmds.push(
            ['SET', key, 'v1'],
            ['GET', key],
            ['EXISTS', key],
            ['STRLEN', key],
            ['GETRANGE', key, '0', '0'],
            ['TYPE', key],
            ['APPEND', key, 'x'],
            ['GET', key],
            ['SET', key, 'v2'],
            ['GET', key],
          );
        }
        cmds.push(['KEYS', `${P}*`]);
        // The latin1 reading of the UTF-8 bytes ("cafÃ©") is the same key; the one-char é is not.
        cmds.push(['GET', Buffer.from(`${P}caf\u00c3\u00a9`, 'latin1')]);
        cmds.push(['GET', Buffer.from(`${P}caf\u00e9`, 'latin1')]);
        c.write(Buffer.concat(cmds.map((cmd) => encodeCommand(cmd))));
        const out: string[] = [];
        for (let i = 0; i < cmds.length; i++) out.push((await c.read()) ?? '(closed)');
        // KEYS order is unspecified: compare its lines as a multiset.
        const keys = cmds.length - 3;
        out[keys] = out[keys]!.split('\r\n').sort().join(';');
        return out;
      } finally {
        c.close();
      }
    };
    const valkey = await run(servers.valkey.port);
    const engine = await run(servers.engine.port);
    expect(engine).toEqual(valkey);
    // The in-process API names a protocol key by its text (the UTF-8 decoding of its bytes); a key
    // whose bytes are not UTF-8 lists lossily (U+FFFD) and no text names it.
    expect(servers.engine.engine.getBuffer(`${P}caf\u00e9`)).toEqual(Buffer.from('v2'));
    expect(servers.engine.engine.getBuffer(utf8.toString('latin1'))).toBeNull();
    expect(servers.engine.engine.keys(`${P}*`).sort()).toEqual(
      [`${P}caf\u00e9`, `${P}\ufffd(\ufffd\u0000`].sort(),
    );
  });
});
