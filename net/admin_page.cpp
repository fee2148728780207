#include "net/admin_page.hpp"

namespace pagedserve::net {

namespace {

constexpr std::string_view kPage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pagedserve admin</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:18px;margin:0 0 4px}h2{font-size:14px;margin:18px 0 6px}
#status{color:#666}#status.err{color:#b00}
.pool{display:flex;gap:24px;flex-wrap:wrap}
canvas{border:1px solid #ccc;background:#fff;image-rendering:pixelated}
.legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin-right:4px;border:1px solid #999}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0}.mono{font-family:ui-monospace,monospace;font-size:12px}
#tip{position:fixed;pointer-events:none;background:#333;color:#fff;padding:4px 6px;border-radius:3px;font-size:12px;display:none}
.cards{display:flex;gap:10px;flex-wrap:wrap}.card{background:#fff;border:1px solid #ddd;padding:6px 10px;min-width:110px}
.card b{display:block;font-size:16px}
</style></head><body>
<h1>pagedserve admin</h1><div id="status">connecting...</div>
<div class="cards" id="cards"></div>
<h2>KV block pools</h2>
<div class="legend"><span><i class="sw" style="background:#eee"></i>free</span>
<span><i class="sw" style="background:#9ab"></i>free, prefix-cached</span>
<span><i class="sw" style="background:hsl(200,65%,55%)"></i>used (colour = owning request)</span>
<span><i class="sw" style="background:repeating-linear-gradient(45deg,#888 0 2px,#fff 2px 4px)"></i>shared (ref count &gt; 1)</span>
<span><i class="sw" style="background:#fff;border:2px solid #d00"></i>copy-on-write pending</span></div>
<div class="pool"><div><h2 id="gpu-title">GPU pool</h2><canvas id="gpu" width="640" height="40"></canvas></div>
<div><h2 id="cpu-title">CPU pool (swap)</h2><canvas id="cpu" width="320" height="40"></canvas></div></div>
<h2>Sequences</h2><table id="seqs"></table>
<h2>Scheduler queues</h2><table id="queues"></table>
<h2>Prefix cache</h2><div id="prefix"></div>
<h2>Counters</h2><table id="counters"></table>
<div id="tip"></div>
<script>
"use strict";
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const headers = token ? {Authorization: "Bearer " + token} : {};
const views = ["pool", "seqs", "prefix", "queues", "counters"];
const state = {cells: {gpu: [], cpu: []}};
function hue(s) { let h = 0; for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0; return h % 360; }
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c])); }
async function fetchView(v) {
  const r = await fetch("/admin/" + v, {headers, cache: "no-store"});
  if (!r.ok) throw new Error(v + ": HTTP " + r.status + " " + ((await r.json().catch(() => ({}))).error || {}).message);
  return r.json();
}
// Block id -> owners, and which blocks a copy-on-write is pending on (the
// partial last block of a sequence, still shared).
function owners(seqs, blockSize) {
  const map = {gpu: new Map(), cpu: new Map()}, cow = {gpu: new Set(), cpu: new Set()};
  for (const s of seqs) {
    const m = map[s.device] || map.gpu;
    s.blocks.forEach((b, i) => {
      if (!m.has(b.id)) m.set(b.id, []);
      m.get(b.id).push({seq: s.seq_id, req: s.request_id, logical: i});
    });
    const last = s.blocks[s.blocks.length - 1];
    if (last && last.ref_count > 1 && s.num_tokens % blockSize !== 0) (cow[s.device] || cow.gpu).add(last.id);
  }
  return {map, cow};
}
function draw(name, pool, own, cachedIds) {
  const cv = document.getElementById(name), n = pool.total;
  const cell = n > 20000 ? 3 : n > 4000 ? 6 : n > 1000 ? 10 : 14;
  const cols = Math.max(1, Math.floor((name === "gpu" ? 640 : 320) / cell));
  cv.width = cols * cell; cv.height = Math.max(1, Math.ceil(n / cols)) * cell;
  const g = cv.getContext("2d"), cells = [];
  for (let id = 0; id < n; ++id) {
    const x = (id % cols) * cell, y = Math.floor(id / cols) * cell, ref = pool.ref_counts[id] || 0;
    const who = own.map[name].get(id) || [];
    let fill = "#eee";
    if (ref > 0 && who.length) {
      const reqs = new Set(who.map(w => w.req));
      fill = reqs.size > 1 ? "hsl(280,45%,55%)" : "hsl(" + hue(who[0].req) + ",65%,55%)";
    } else if (ref > 0) fill = "#777";
    else if (cachedIds.has(id)) fill = "#9ab";
    g.fillStyle = fill; g.fillRect(x, y, cell - 1, cell - 1);
    if (ref > 1 && cell >= 6) {
      g.strokeStyle = "rgba(255,255,255,.9)"; g.lineWidth = 1; g.beginPath();
      for (let k = -cell; k < cell; k += 3) { g.moveTo(x + k, y + cell - 1); g.lineTo(x + k + cell - 1, y); }
      g.save(); g.rect(x, y, cell - 1, cell - 1); g.clip(); g.stroke(); g.restore();
    }
    if (own.cow[name].has(id)) { g.strokeStyle = "#d00"; g.lineWidth = 2; g.strokeRect(x + 1, y + 1, cell - 3, cell - 3); }
    cells.push({id, ref, who, cached: cachedIds.has(id)});
  }
  state.cells[name] = {cells, cols, cell};
  document.getElementById(name + "-title").textContent = (name === "gpu" ? "GPU pool" : "CPU pool (swap)") +
    ": " + pool.used + " used, " + pool.free + " free, " + pool.cached + " cached, " + pool.shared + " shared of " + pool.total;
}
function table(id, head, rows) {
  document.getElementById(id).innerHTML = "<tr>" + head.map(h => "<th>" + esc(h) + "</th>").join("") + "</tr>" +
    (rows.length ? rows.map(r => "<tr>" + r.map(c => "<td>" + c + "</td>").join("") + "</tr>").join("")
                 : "<tr><td colspan=" + head.length + ">none</td></tr>");
}
function render(v) {
  const own = owners(v.seqs.seqs, v.seqs.block_size);
  const cached = new Set(v.prefix.blocks.map(b => b.id));
  draw("gpu", v.pool.gpu, own, cached);
  draw("cpu", v.pool.cpu, own, new Set());
  const c = v.counters;
  document.getElementById("cards").innerHTML = [["running", v.queues.running.length], ["waiting", v.queues.waiting.length],
    ["swapped", v.queues.swapped.length], ["KV utilization", (100 * v.pool.utilization).toFixed(1) + "%"],
    ["steps", c.num_steps], ["preemptions", c.num_preemptions_swap + c.num_preemptions_recompute],
    ["prefix hits", v.prefix.hits + " / " + v.prefix.queries]].map(([k, x]) => "<div class=card>" + esc(k) + "<b>" + esc(x) + "</b></div>").join("");
  table("seqs", ["seq", "request", "sample", "status", "device", "tokens", "block table (logical→physical, ref count)"],
    v.seqs.seqs.map(s => [s.seq_id, esc(s.request_id), s.index, esc(s.status), s.device, s.num_tokens,
      "<span class=mono>" + s.blocks.map((b, i) => i + "→" + b.id + (b.ref_count > 1 ? "(" + b.ref_count + ", shared)" : "")).join(" ") + "</span>"]));
  const q = [];
  for (const name of ["running", "swapped", "waiting"])
    for (const g of v.queues[name]) q.push([name, esc(g.request_id), g.num_seqs, g.prompt_tokens, g.priority]);
  table("queues", ["queue", "request", "sequences", "prompt tokens", "priority"], q);
  document.getElementById("prefix").textContent = (v.prefix.enabled ? "enabled" : "disabled") + ": " +
    v.prefix.num_cached_blocks + " cached blocks, " + v.prefix.hits + " hits of " + v.prefix.queries + " lookups";
  table("counters", ["counter", "value"], Object.entries(c).map(([k, x]) => [esc(k), esc(x)]));
}
async function tick() {
  const st = document.getElementById("status");
  try {
    const got = await Promise.all(views.map(fetchView));
    const v = {}; views.forEach((k, i) => v[k] = got[i]);
    render(v);
    st.className = ""; st.textContent = "updated " + new Date().toLocaleTimeString() + " (every second)";
  } catch (e) { st.className = "err"; st.textContent = String(e.message || e); }
  setTimeout(tick, 1000);
}
for (const name of ["gpu", "cpu"]) {
  const cv = document.getElementById(name), tip = document.getElementById("tip");
  cv.addEventListener("mousemove", ev => {
    const s = state.cells[name]; if (!s || !s.cells) return;
    const r = cv.getBoundingClientRect();
    const id = Math.floor((ev.clientY - r.top) / s.cell) * s.cols + Math.floor((ev.clientX - r.left) / s.cell);
    const c = s.cells[id]; if (!c) { tip.style.display = "none"; return; }
    tip.style.display = "block"; tip.style.left = ev.clientX + 12 + "px"; tip.style.top = ev.clientY + 12 + "px";
    tip.textContent = name + " block " + c.id + ", ref " + c.ref + (c.cached ? ", prefix-cached" : "") +
      (c.who.length ? ", " + c.who.map(w => w.req + " seq " + w.seq + " logical " + w.logical).join("; ") : "");
  });
  cv.addEventListener("mouseleave", () => tip.style.display = "none");
}
tick();
</script></body></html>
)HTML";

}  // namespace

std::string_view admin_page_html() { return kPage; }

}  // namespace pagedserve::net
