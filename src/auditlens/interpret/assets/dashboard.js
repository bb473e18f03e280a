"use strict";
// auditlens feature dashboard: vanilla JS, no network. Data arrive through <script> tags, because Chromium
// blocks fetching file:// URLs: data/index.js sets window.AUDITLENS = {chunks: {}, data: ...}, and
// data/chunk_NNNN.js (added on demand) sets window.AUDITLENS.chunks[N].
// All token text is inserted with textContent / setAttribute, never as HTML.
(function () {
  const PAGE = 100;
  const AL = window.AUDITLENS;
  const D = AL.data;
  const M = D.meta;
  const n = D.id.length;
  const rowOf = new Map();
  for (let i = 0; i < n; i++) rowOf.set(D.id[i], i);
  const lowerText = new Array(n);
  for (let i = 0; i < n; i++) lowerText[i] = (D.tok[i].join("\n") + "\n" + (D.expl[i] || "")).toLowerCase();
  const state = { sort: "rate", desc: true, query: "", page: 0, rows: [], selected: null };
  const pending = new Map();

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svgEl(tag, attrs) {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function fmt(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return "–";
    if (x === 0) return "0";
    const a = Math.abs(x);
    if (a >= 1e4 || a < 1e-3) return x.toExponential(2);
    return x.toPrecision(3);
  }
  // A token shown alone (in a list): also make whitespace-only tokens visible.
  function visibleAlone(s) { return /^[ \u00a0]+$/.test(s) ? s.replace(/[ \u00a0]/g, "␣") : visible(s); }
  function tokenList(list) { return list.map(visibleAlone).join(" · "); }
  function pct(x) { return x === 0 ? "0" : (x * 100 < 0.01 ? (x * 100).toExponential(1) : (x * 100).toPrecision(3)) + "%"; }
  // Make invisible characters visible; the result is still plain text (inserted with textContent).
  function visible(s) {
    if (s === "") return "∅";
    return s.replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/\r/g, "␍")
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"));
  }

  // ------------------------------------------------------------------ index
  function key(i) {
    switch (state.sort) {
      case "id": return D.id[i];
      case "max": return D.max[i];
      case "mean": return D.mean[i];
      case "score": return D.score[i] === null ? -Infinity : D.score[i];
      default: return D.rate[i];
    }
  }
  function matches(i, q) {
    if (/^#?\d+$/.test(q)) {
      const s = String(D.id[i]);
      return s === q.replace("#", "") || s.startsWith(q.replace("#", ""));
    }
    return lowerText[i].includes(q);
  }
  function refresh() {
    const q = state.query.trim().toLowerCase();
    let rows = [];
    for (let i = 0; i < n; i++) if (!q || matches(i, q)) rows.push(i);
    if (/^#?\d+$/.test(q)) {
      // An exact id match goes first.
      const exact = rowOf.get(Number(q.replace("#", "")));
      if (exact !== undefined) rows = [exact].concat(rows.filter((r) => r !== exact));
    } else {
      const sign = state.desc ? -1 : 1;
      rows.sort((a, b) => { const ka = key(a), kb = key(b); return ka < kb ? -sign : ka > kb ? sign : D.id[a] - D.id[b]; });
    }
    state.rows = rows;
    state.page = Math.min(state.page, Math.max(0, Math.ceil(rows.length / PAGE) - 1));
    renderTable();
  }
  function renderTable() {
    const tbody = document.querySelector("#feature-table tbody");
    tbody.replaceChildren();
    const start = state.page * PAGE;
    const frag = document.createDocumentFragment();
    for (const i of state.rows.slice(start, start + PAGE)) {
      const tr = el("tr", { "data-feature": String(D.id[i]) });
      if (D.id[i] === state.selected) tr.className = "selected";
      tr.append(el("td", { class: "num" }, "#" + D.id[i]), el("td", { class: "num" }, pct(D.rate[i])),
        el("td", { class: "num" }, fmt(D.max[i])), el("td", { class: "num" }, fmt(D.mean[i])),
        el("td", { class: "toks", title: JSON.stringify(D.tok[i]) }, tokenList(D.tok[i])));
      const ex = el("td", { class: "expl" }, D.expl[i] || "");
      if (D.score[i] !== null) ex.append(el("span", { class: "scores" }, " (" + fmt(D.score[i]) + ")"));
      tr.append(ex);
      tr.addEventListener("click", () => openFeature(D.id[i]));
      frag.append(tr);
    }
    tbody.append(frag);
    const pages = Math.max(1, Math.ceil(state.rows.length / PAGE));
    document.getElementById("page").textContent = "page " + (state.page + 1) + " of " + pages;
    document.getElementById("count").textContent = state.rows.length + " of " + n + " features";
    document.querySelectorAll("th[data-key]").forEach((th) => {
      th.classList.toggle("sorted", th.dataset.key === state.sort);
      th.dataset.dir = state.desc ? " ▼" : " ▲";
    });
    document.getElementById("order").textContent = state.desc ? "desc" : "asc";
  }

  function barChart(counts, lo, hi, opts) {
    const W = opts.width || 420, H = opts.height || 110, padL = 34, padB = 18;
    const svg = svgEl("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
    const peak = Math.max(1, ...counts);
    const bw = (W - padL - 4) / counts.length;
    counts.forEach((c, j) => {
      const h = (H - padB - 6) * (opts.log ? Math.log1p(c) / Math.log1p(peak) : c / peak);
      const r = svgEl("rect", { class: "bar", x: padL + j * bw, y: H - padB - h, width: Math.max(bw - 1, 1), height: h });
      const t = svgEl("title", {});
      const a = lo + (hi - lo) * j / counts.length, b = lo + (hi - lo) * (j + 1) / counts.length;
      t.textContent = (opts.label ? opts.label(a, b) : fmt(a) + " – " + fmt(b)) + ": " + c;
      r.append(t);
      svg.append(r);
    });
    const axis = (x, s, anchor) => { const t = svgEl("text", { x: x, y: H - 4, "text-anchor": anchor }); t.textContent = s; svg.append(t); };
    axis(padL, opts.loText || fmt(lo), "start");
    axis(W - 4, opts.hiText || fmt(hi), "end");
    const yt = svgEl("text", { x: 2, y: 12 }); yt.textContent = String(peak); svg.append(yt);
    return svg;
  }

  // ------------------------------------------------------------------ panels
  function loadChunk(c) {
    if (AL.chunks[c]) return Promise.resolve(AL.chunks[c]);
    if (!pending.has(c)) {
      pending.set(c, new Promise((resolve, reject) => {
        const s = document.createElement("script");
        s.src = "data/chunk_" + String(c).padStart(4, "0") + ".js";
        s.onload = () => resolve(AL.chunks[c]);
        s.onerror = () => reject(new Error("cannot load " + s.src));
        document.head.append(s);
      }));
    }
    return pending.get(c);
  }
  function openFeature(id) {
    const row = rowOf.get(id);
    const panel = document.getElementById("panel");
    if (row === undefined) { panel.replaceChildren(el("p", { class: "empty" }, "No feature " + id + ".")); return; }
    state.selected = id;
    if (location.hash !== "#f=" + id) history.replaceState(null, "", "#f=" + id);
    document.querySelectorAll("#feature-table tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.feature === String(id)));
    panel.replaceChildren(el("p", { class: "empty" }, "Loading feature " + id + "…"));
    loadChunk(Math.floor(row / M.chunk_size)).then((chunk) => {
      if (state.selected === id) renderPanel(id, row, chunk);
    }, (err) => panel.replaceChildren(el("p", { class: "empty" }, String(err.message))));
  }
  function tokenSpan(text, q, peakQ, special, maxAct) {
    const value = q / 1000 * maxAct;
    const s = el("span", { class: "tok" + (special ? " special" : ""), title: JSON.stringify(text) + " → " + fmt(value) }, visible(text));
    if (q > 0) s.style.backgroundColor = "rgba(255, 110, 20, " + (0.08 + 0.85 * Math.min(q, 1000) / 1000).toFixed(3) + ")";
    if (q === peakQ && q > 0) s.classList.add("peak");
    return s;
  }
  function exampleRows(list, vocab, maxAct) {
    const box = el("div");
    if (!list.length) { box.append(el("div", { class: "empty" }, "none")); return box; }
    for (const ex of list) {
      // ex = [context, start, max_position, max_activation, token_ids, quantised activations]
      const [ctx, start, mpos, mval, ids, qs] = ex;
      const line = el("div", { class: "example", title: "context " + ctx + ", tokens " + start + "–" + (start + ids.length - 1) });
      line.append(el("span", { class: "maxv" }, fmt(mval)));
      const peak = qs[mpos - start];
      ids.forEach((t, j) => {
        const text = vocab[t] !== undefined ? vocab[t] : "<" + t + ">";
        line.append(tokenSpan(text, qs[j], peak, M.special.includes(t), maxAct));
      });
      box.append(line);
    }
    return box;
  }
  function logitTable(title, list, cls) {
    const wrap = el("div");
    wrap.append(el("h3", null, title));
    if (!list) { wrap.append(el("div", { class: "empty" }, "not computed (no model given)")); return wrap; }
    const t = el("table");
    for (const [tok, v] of list) {
      const tr = el("tr");
      tr.append(el("td", { title: JSON.stringify(tok) }, visibleAlone(tok)), el("td", { class: "num " + cls }, fmt(v)));
      t.append(tr);
    }
    wrap.append(t);
    return wrap;
  }
  function renderPanel(id, row, chunk) {
    const f = chunk[String(id)];
    const vocab = chunk.vocab;
    const panel = document.getElementById("panel");
    const out = [el("h2", null, "Feature #" + id + " · " + M.source)];
    const ex = el("div", { class: "explanation" + (f.interp ? "" : " missing") });
    if (f.interp) {
      ex.append(el("div", null, f.interp.explanation));
      const sc = Object.entries(f.interp.scores || {}).map(([k, v]) => k + " " + fmt(v)).join(" · ");
      ex.append(el("div", { class: "scores" }, (f.interp.score !== null ? "score " + fmt(f.interp.score) : "") + (sc ? " · " + sc : "") + (f.interp.explainer ? " · " + f.interp.explainer : "")));
    } else ex.textContent = "No explanation yet (run auto-interp).";
    out.push(ex);
    const grid = el("div", { class: "stats-grid" });
    const stat = (k, v) => { const d = el("div"); d.append(el("span", null, k), document.createTextNode(v)); grid.append(d); };
    stat("firing rate", pct(f.rate)); stat("firing tokens", String(f.fires));
    stat("firing contexts", f.fctx + " of " + M.contexts); stat("max activation", fmt(f.max));
    stat("mean (all tokens)", fmt(f.mean)); stat("mean (firing)", fmt(f.meanf));
    stat("top tokens", f.top_tokens.map(([t, c]) => visibleAlone(t) + " ×" + c).join(" · ") || "–");
    out.push(grid);
    out.push(el("h3", null, "Activation histogram (firing tokens)"));
    out.push(f.max > 0 ? barChart(f.hist, 0, f.max, { log: false }) : el("div", { class: "empty" }, "never fires"));
    const logits = el("div", { class: "logits" });
    logits.append(logitTable("Promoted tokens", f.promoted, "pos"), logitTable("Suppressed tokens", f.suppressed, "neg"));
    out.push(logits);
    out.push(el("h3", null, "Top activations"), exampleRows(f.top, vocab, f.max));
    for (const b of f.quantiles) {
      out.push(el("h3", null, "Activation " + fmt(b.low) + " – " + fmt(b.high)), exampleRows(b.ex, vocab, f.max));
    }
    out.push(el("h3", null, "Random firing contexts"), exampleRows(f.random, vocab, f.max));
    panel.replaceChildren(...out);
  }

  // ------------------------------------------------------------------ wiring
  document.getElementById("title").textContent = M.source;
  document.getElementById("meta").textContent = M.n_features + " features · " + M.hook_point + " · " + M.tokens + " tokens · " +
    M.dead + " dead" + (M.model ? " · " + M.model : "");
  document.title = "auditlens · " + M.source;
  document.getElementById("density").append(barChart(M.density.counts, M.density.log10_edges[0],
    M.density.log10_edges[M.density.log10_edges.length - 1], { label: (a, b) => "10^" + a.toFixed(2) + " – 10^" + b.toFixed(2),
      loText: "1e" + M.density.log10_edges[0], hiText: "1" }));
  const search = document.getElementById("search");
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { state.query = search.value; state.page = 0; refresh(); }, 120); });
  search.addEventListener("keydown", (e) => { if (e.key === "Enter" && state.rows.length) openFeature(D.id[state.rows[0]]); });
  const sortSel = document.getElementById("sort");
  sortSel.addEventListener("change", () => { state.sort = sortSel.value; state.desc = state.sort !== "id"; refresh(); });
  document.getElementById("order").addEventListener("click", () => { state.desc = !state.desc; refresh(); });
  document.querySelectorAll("th[data-key]").forEach((th) => th.addEventListener("click", () => {
    if (state.sort === th.dataset.key) state.desc = !state.desc; else { state.sort = th.dataset.key; state.desc = state.sort !== "id"; }
    sortSel.value = state.sort; refresh();
  }));
  document.getElementById("prev").addEventListener("click", () => { if (state.page > 0) { state.page--; renderTable(); } });
  document.getElementById("next").addEventListener("click", () => { if ((state.page + 1) * PAGE < state.rows.length) { state.page++; renderTable(); } });
  window.addEventListener("hashchange", () => { const m = /^#f=(\d+)$/.exec(location.hash); if (m) openFeature(Number(m[1])); });
  refresh();
  const m = /^#f=(\d+)$/.exec(location.hash);
  if (m) openFeature(Number(m[1]));
})();
