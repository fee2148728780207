// A small layer over the `ws` client for the /v1/stream protocol: collects
// each request's frames by id.

import WebSocket from 'ws';

// `headers` go with the upgrade request (Authorization for an API key).
export async function connect(url, { headers = {} } = {}) {
  const ws = new WebSocket(url.replace('http://', 'ws://') + '/v1/stream', { headers });
  const requests = new Map();  // id -> {tokens: [{index, token_id, text}], done, error, resolve}
  const stray = [];            // error frames without an id
  ws.on('message', (data, isBinary) => {
    if (isBinary) throw new Error('binary frame from the server');
    const m = JSON.parse(data.toString());
    if (m.id === null || m.id === undefined) return void stray.push(m);
    const r = entry(m.id);
    if (m.type === 'token') r.tokens.push(m);
    else if (m.type === 'done') { r.done = m; r.settle(); }
    else if (m.type === 'error') { r.error = m; r.settle(); }
    else throw new Error(`unknown frame ${data}`);
  });
  function entry(id) {
    if (!requests.has(id)) {
      let settle;
      const finished = new Promise((r) => { settle = r; });
      requests.set(id, { tokens: [], done: null, error: null, settle, finished });
    }
    return requests.get(id);
  }
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return {
    ws, stray,
    send(message) { ws.send(typeof message === 'string' ? message : JSON.stringify(message)); },
    request(id) { return entry(id); },
    // Sends a generate and resolves with its record once done or error arrives.
    generate(id, params) {
      requests.delete(id);  // an id may be used again once its request is over
      const r = entry(id);
      ws.send(JSON.stringify({ type: 'generate', id, ...params }));
      return r.finished.then(() => r);
    },
    close() { ws.close(); return new Promise((r) => ws.once('close', r)); },
  };
}
