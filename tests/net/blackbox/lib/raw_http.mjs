// One request written as raw bytes, for what fetch will not send (a
// chosen Host, an absolute-form target, a transfer coding): the status,
// the head and the body parsed as JSON (null when it is not JSON).

import net from 'node:net';

export function rawRequest(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => { data += d; });
    socket.on('end', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      let json = null;
      try { json = JSON.parse(rest.join('\r\n\r\n')); } catch { /* not JSON */ }
      resolve({ status: Number(head.split(' ')[1]), head, json });
    });
    socket.on('error', reject);
    socket.write(text);
  });
}
