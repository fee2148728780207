// A WebSocket client on a bare socket, for clients the `ws` package will
// not be: one that floods frames and never reads what the server sends.

import crypto from 'node:crypto';
import net from 'node:net';

// One masked client text frame (RFC 6455 section 5.2).
export function textFrame(text) {
  const payload = Buffer.from(text);
  const mask = crypto.randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len])
    : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; ++i) masked[i] = payload[i] ^ mask[i % 4];
  return Buffer.concat([head, mask, masked]);
}

// Opens a socket, upgrades it on `path` and resolves once the 101 is in;
// the socket is left paused: nothing more is read until resume().
export function openRaw(port, path = '/v1/stream') {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    socket.on('error', reject);
    socket.on('data', function onData(d) {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${head}`));
      resolve(socket);
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
}

// Writes `frames` as fast as the socket takes them; resolves with the bytes
// written (fewer when the server closes first).
export async function writeAll(socket, frames) {
  let written = 0;
  for (const f of frames) {
    if (socket.destroyed) break;
    const ok = socket.write(f, () => {});
    written += f.length;
    if (!ok) {
      const drained = await Promise.race([new Promise((r) => socket.once('drain', () => r(true))),
        new Promise((r) => setTimeout(() => r(false), 3000))]);
      if (!drained) break;  // the server stopped reading
    }
  }
  return written;
}

// Reads what is left until the server closes (or `ms` pass); the close
// frame's status code if one came (null otherwise) and the text frames.
export function readToEnd(socket, ms = 10000) {
  return new Promise((resolve) => {
    const chunks = [];
    const done = () => resolve(parseFrames(Buffer.concat(chunks)));
    socket.on('data', (d) => chunks.push(d));
    socket.once('close', done);
    socket.on('error', () => {});
    setTimeout(() => { socket.destroy(); }, ms);
    socket.resume();
  });
}

// Unmasked server frames: text payloads and the close code.
function parseFrames(buf) {
  const texts = [];
  let closeCode = null;
  let at = 0;
  while (at + 2 <= buf.length) {
    const op = buf[at] & 0x0f;
    let len = buf[at + 1] & 0x7f;
    let p = at + 2;
    if (len === 126) { len = buf.readUInt16BE(p); p += 2; } else if (len === 127) { len = Number(buf.readBigUInt64BE(p)); p += 8; }
    if (p + len > buf.length) break;
    const payload = buf.subarray(p, p + len);
    if (op === 1) texts.push(payload.toString());
    if (op === 8 && len >= 2) closeCode = payload.readUInt16BE(0);
    at = p + len;
  }
  return { texts, closeCode };
}

// The resident memory of process `pid` in bytes (Linux).
export async function residentBytes(pid) {
  const fs = await import('node:fs/promises');
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}
