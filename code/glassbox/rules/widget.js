// Glass Box, chapters 6 and 7: a trained planar model, live in the page (glassbox.rules.widget writes its weights).
// Plain JavaScript, no library, no request: each <div class="glassbox-touch"> reads the JSON in the
// <script class="glassbox-touch-model" data-for="its id"> beside it and runs the model's forward pass here.
// The forward pass is the book's `Transformer` for d_model 2: x = W_E[t] + W_pos[p]; q, k, v = x W + b;
// scores = q·k / attn_scale, causal mask, softmax; z = pattern v; mid = x + z W_O + b_O; post = mid + MLP(mid)
// (ReLU); logits = post W_U + b_U. Weights are float32 values (Math.fround; a drag keeps them so); everything is
// computed in float64, JavaScript's number: PyTorch's float64 pass on the same weights gives the same logits to
// ~1e-12 (tests/test_widget.py, the site check). PyTorch's usual float32 pass rounds as it goes, by ~1e-4 at the
// logits of a few hundred this model reaches, in an order of sums that depends on the CPU's kernels.
(function () {
  "use strict";
  if (window.GlassBoxTouch) { window.GlassBoxTouch.mountAll(); return; }

  // Okabe–Ito (glassbox.plots.core.OKABE_ITO): one colour per even number, purple for +, grey for odd numbers,
  // unless the export brings a palette of its own (a rule whose every token can be an answer: one colour a token).
  var OKABE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"];
  var KIND = { even: "#0072B2", odd: "#B86E00", plus: "#A6457F" };  // markers on the plane, ≥ 4.5:1 on white
  var SVGNS = "http://www.w3.org/2000/svg";
  var SIZE = 400, GRID = 160;

  // Colours are variables: the site's dark mode (html[data-theme=dark], sphinx-book-theme) and a dark notebook
  // (prefers-color-scheme, where no theme says otherwise) swap them. The plane is a figure: it keeps its colours.
  var LIGHT = "--gbt-bg:#fff;--gbt-fg:#1b1b1b;--gbt-muted:#595959;--gbt-line:#bbb;--gbt-btn:#f2f2f2;" +
    "--gbt-btn-hover:#e2e2e2;--gbt-btn-line:#6b6b6b;--gbt-focus:#0072B2;--gbt-current:#005a8c;--gbt-current-fg:#fff;" +
    "--gbt-track:#e6e6e6;--gbt-even:#0072B2;--gbt-odd:#B86E00;--gbt-plus:#A6457F;--gbt-frame:#999";
  var DARK = "--gbt-bg:#1f2226;--gbt-fg:#e9e9e9;--gbt-muted:#b4b4b4;--gbt-line:#5a5f66;--gbt-btn:#2c3036;" +
    "--gbt-btn-hover:#3a3f47;--gbt-btn-line:#9aa0a8;--gbt-focus:#7cc6f2;--gbt-current:#7cc6f2;--gbt-current-fg:#111;" +
    "--gbt-track:#3a3f47;--gbt-even:#56B4E9;--gbt-odd:#E69F00;--gbt-plus:#E08FC4;--gbt-frame:#777";
  var CSS = [
    ".gbt{" + LIGHT + "}",
    "html[data-theme=dark] .gbt{" + DARK + "}",
    "@media (prefers-color-scheme:dark){html:not([data-theme]) .gbt{" + DARK + "}}",
    ".gbt{background:var(--gbt-bg);color:var(--gbt-fg);border:1px solid var(--gbt-line);border-radius:6px;",
    "padding:.75rem;margin:1rem 0;font-size:.92rem;line-height:1.35;max-width:100%;box-sizing:border-box}",
    ".gbt *{box-sizing:border-box}",
    ".gbt h4{font-size:.95rem;margin:.4rem 0 .3rem;color:var(--gbt-fg)}",
    ".gbt p,.gbt span,.gbt label,.gbt legend{color:var(--gbt-fg)}",
    ".gbt button{font:inherit;color:var(--gbt-fg);background:var(--gbt-btn);border:1px solid var(--gbt-btn-line);",
    "border-radius:4px;padding:.2rem .45rem;margin:.12rem;cursor:pointer;min-width:2.1rem;min-height:2.1rem}",
    ".gbt button:hover{background:var(--gbt-btn-hover)}",
    ".gbt button:focus-visible,.gbt input:focus-visible,.gbt .gbt-handle:focus-visible{outline:3px solid var(--gbt-focus);",
    "outline-offset:2px}",
    ".gbt .gbt-handle:focus-visible{outline-color:#0072B2}",
    ".gbt .gbt-slot[aria-current=true]{background:var(--gbt-current);color:var(--gbt-current-fg);",
    "border-color:var(--gbt-current)}",
    ".gbt .gbt-slot.gbt-empty{color:var(--gbt-muted);border-style:dashed}",
    ".gbt input[type=radio]{accent-color:var(--gbt-focus)}",
    ".gbt .gbt-row{display:flex;flex-wrap:wrap;align-items:center;gap:.1rem;margin:.2rem 0}",
    ".gbt .gbt-row>span{margin-right:.35rem}",
    ".gbt fieldset{border:0;margin:0;padding:0;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}",
    ".gbt legend{float:left;margin:0 .5rem 0 0;padding:0;font-size:inherit;font-weight:inherit;width:auto;border:0}",
    ".gbt label{white-space:nowrap}",
    ".gbt-main{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}",
    ".gbt-plane{flex:1 1 300px;max-width:460px;min-width:0;margin:0}",
    ".gbt-plane svg{width:100%;height:auto;display:block;border:1px solid var(--gbt-frame);touch-action:none}",
    ".gbt-side{flex:1 1 260px;min-width:0}",
    ".gbt-bars{display:grid;grid-template-columns:auto 1fr 2.9rem;gap:1px .4rem;align-items:center;font-size:.85rem}",
    ".gbt-bar{height:.8rem;background:var(--gbt-track);position:relative}",
    ".gbt-bar>span{position:absolute;left:0;top:0;bottom:0}",
    ".gbt-bar>.gbt-even{background:var(--gbt-even)}.gbt-bar>.gbt-odd{background:var(--gbt-odd)}",
    ".gbt-bar>.gbt-plus{background:var(--gbt-plus)}",
    ".gbt-num{text-align:right;font-variant-numeric:tabular-nums}",
    ".gbt-top{font-weight:700}",
    ".gbt-live{font-weight:600;margin:.5rem 0 0}",
    ".gbt-note{font-size:.85rem;margin:.2rem 0}",
    ".gbt svg text{font-family:inherit;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}",
    ".gbt-handle{cursor:grab;outline:none}",
    "@media (max-width:520px){.gbt{padding:.5rem}.gbt .gbt-row>span{flex-basis:100%}.gbt button{margin:.08rem}}",
    "@media (prefers-reduced-motion:no-preference){.gbt-bar>span{transition:width .12s}}",
  ].join("");

  function injectStyle() {
    if (document.getElementById("glassbox-touch-style")) return;
    var style = document.createElement("style");
    style.id = "glassbox-touch-style";
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVGNS, tag);
    for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function each(a, f) {  // f applied to every number of nested arrays and objects
    if (Array.isArray(a)) return a.map(function (b) { return each(b, f); });
    if (a !== null && typeof a === "object") {
      var out = {};
      for (var key in a) out[key] = each(a[key], f);
      return out;
    }
    return f(a);
  }
  function f32(a) { return each(a, Math.fround); }
  function copy(a) { return each(a, function (b) { return b; }); }
  function vecmat(x, W, b) {  // x [n], W [n][m], b [m] or null: x W + b
    var m = W[0].length, out = new Array(m);
    for (var j = 0; j < m; j++) {
      var s = 0;
      for (var i = 0; i < x.length; i++) s += x[i] * W[i][j];
      out[j] = b ? s + b[j] : s;
    }
    return out;
  }
  function softmax(a) {
    var max = -Infinity, i, sum = 0, out = new Array(a.length);
    for (i = 0; i < a.length; i++) if (a[i] > max) max = a[i];
    for (i = 0; i < a.length; i++) { out[i] = Math.exp(a[i] - max); sum += out[i]; }
    for (i = 0; i < a.length; i++) out[i] /= sum;
    return out;
  }

  // --- the rules: what each allows next, as glassbox.rules.definitions says (tests/test_widget.py compares) -----
  // s: the tokens so far (ids); V: the vocabulary's size; plus: the id of + or null. null: the next token is free.
  function range(n, f) { var out = []; for (var i = 0; i < n; i++) if (f(i)) out.push(i); return out; }
  var RULES = {
    plus_last_even: function (s, V, plus) {
      var i = s.length;
      if (i === 0 || s[i - 1] !== plus) return null;
      for (var j = i - 2; j >= 0; j--) if (s[j] !== plus && s[j] % 2 === 0) return [s[j]];
      return range(V, function (t) { return t !== plus && t % 2 === 0; });
    },
    plus_means_even: function (s, V, plus) {
      return s.length > 0 && s[s.length - 1] === plus ? range(V, function (t) { return t !== plus && t % 2 === 0; }) : null;
    },
    plus_max_of_two: function (s, V, plus) {
      var i = s.length;
      return i >= 3 && s[i - 1] === plus ? [Math.max(s[i - 2], s[i - 3])] : null;
    },
    lucky7: function (s) { var i = s.length; return i >= 2 && s[i - 1] === 7 ? [s[i - 2]] : null; },
    copy_modulo: function (s) { var i = s.length; return i >= 4 ? [s[i % 4]] : null; },
    successor: function (s, V) { var i = s.length; return i > 0 ? [(s[i - 1] + 1) % V] : null; },
    conditional_transform: function (s, V) {
      var i = s.length, t = s[i - 1];
      return i > 0 ? [t % 2 === 0 ? t / 2 : (t + 1) % V] : null;
    },
  };
  function allowedNext(rule, s, V, plus) { return RULES[rule] ? RULES[rule](s, V, plus) : undefined; }

  // --- the model ----------------------------------------------------------------------------------------------
  function Model(data) {
    this.data = data;
    this.cfg = data.config;
    this.trained = f32(data.weights);
    this.w = copy(this.trained);
  }
  Model.prototype.reset = function () { this.w = copy(this.trained); };
  // The map from a point right after attention to the logits: + MLP (ReLU), then the unembedding.
  Model.prototype.readout = function (mid) {
    var w = this.w, pre = vecmat(mid, w.W_in, w.b_in);
    for (var i = 0; i < pre.length; i++) pre[i] = pre[i] > 0 ? pre[i] : 0;
    var mlp = vecmat(pre, w.W_out, w.b_out), post = new Array(mid.length);
    for (var d = 0; d < mid.length; d++) post[d] = (this.cfg.use_residual ? mid[d] : 0) + mlp[d];
    return vecmat(post, w.W_U, w.b_U);
  };
  // Every activation of one window; `pins` replaces the value of a position ({position: [v0, v1]}).
  Model.prototype.forward = function (tokens, pins) {
    var w = this.w, n = tokens.length, self = this, p, j, d;
    var x = tokens.map(function (t, p) { return w.W_E[t].map(function (e, d) { return e + w.W_pos[p][d]; }); });
    var q = x.map(function (r) { return vecmat(r, w.W_Q, w.b_Q); });
    var k = x.map(function (r) { return vecmat(r, w.W_K, w.b_K); });
    var v = x.map(function (r, p) { return pins && pins[p] ? pins[p].slice() : vecmat(r, w.W_V, w.b_V); });
    var pattern = [], z = [], mid = [], logits = [], probs = [];
    for (p = 0; p < n; p++) {
      // scores q·k / scale, causal (keys 0 … p), softmax: exp(score − max) / Σ exp; z = Σ pattern · v
      var scores = [], top = -Infinity;
      for (j = 0; j <= p; j++) {
        var s = 0;
        for (d = 0; d < q[p].length; d++) s += q[p][d] * k[j][d];
        scores.push(s / self.cfg.attn_scale);
        top = Math.max(top, scores[j]);
      }
      var e = scores.map(function (sc) { return Math.exp(sc - top); }), sum = 0, zp = new Array(v[0].length).fill(0);
      for (j = 0; j <= p; j++) sum += e[j];
      var a = e.map(function (ej) { return ej / sum; });
      for (j = 0; j <= p; j++) for (d = 0; d < zp.length; d++) zp[d] += a[j] * v[j][d];
      var out = vecmat(zp, w.W_O, w.b_O), m = new Array(x[p].length);
      for (d = 0; d < m.length; d++) m[d] = (this.cfg.use_residual ? x[p][d] : 0) + out[d];
      var l = this.readout(m);
      pattern.push(a); z.push(zp); mid.push(m); logits.push(l); probs.push(softmax(l));
    }
    return { x: x, q: q, k: k, v: v, pattern: pattern, z: z, mid: mid, logits: logits, probs: probs };
  };

  // --- labels on the plane: where each goes, so that none overprints a marker or another label ------------------
  // A label's box is estimated from its text (DejaVu Sans's widths, the widest usual font: a little too large in
  // others), plus the white halo (paint-order stroke, 1.5 px a side). Boxes are [x0, y0, x1, y1] in the SVG's units.
  function textWidth(text, size, bold) {
    var w = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text.charAt(i);
      w += c === "→" || c === "+" ? 0.84 : c === "_" ? 0.5 : c === " " ? 0.32 : 0.64;
    }
    return w * size * (bold ? 1.09 : 1);
  }
  function Label(text, size, bold) {  // the box's size; `ascent` places the baseline from its top
    var descent = /[_pq]/.test(text) ? 0.3 : 0.06;
    this.text = text; this.size = size; this.bold = bold;
    this.w = textWidth(text, size, bold) + 3; this.h = (0.76 + descent) * size + 3; this.ascent = 1.5 + 0.76 * size;
  }
  function overlaps(a, b) { return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]; }
  function inside(a) { return a[0] >= -2 && a[1] >= -2 && a[2] <= SIZE + 2 && a[3] <= SIZE + 2; }  // the halo may be cut
  function crosses(box, s) {  // does the segment s = [x1, y1, x2, y2] pass through the box? (Liang–Barsky)
    var t0 = 0, t1 = 1, dx = s[2] - s[0], dy = s[3] - s[1];
    var p = [-dx, dx, -dy, dy], q = [s[0] - box[0], box[2] - s[0], s[1] - box[1], box[3] - s[1]];
    for (var i = 0; i < 4; i++) {
      if (p[i] === 0) { if (q[i] < 0) return false; continue; }
      var r = q[i] / p[i];
      if (p[i] < 0) { if (r > t1) return false; if (r > t0) t0 = r; } else { if (r < t0) return false; if (r < t1) t1 = r; }
    }
    return true;
  }
  function count(box, list, f) { var n = 0; for (var i = 0; i < list.length; i++) if (f(box, list[i])) n++; return n; }

  // Where each region's name can go: the cells of the GRID × GRID landscape (`best`: the predicted token of each)
  // where the label's box lies wholly inside its region, farthest from the region's edge first (a two-pass chamfer
  // distance to the nearest cell of another region or the plane's edge), at most `keep` of them and `spacing` cells
  // apart, so that a label a marker sits on has somewhere near to go. A region no box fits in, of `minCells` cells or
  // more, gets places around its deepest cell (`leader`), to be joined to it by a line; a smaller one, no name.
  function regionSpots(best, labelOf, keep, spacing, minCells) {
    var N = GRID, cell = SIZE / GRID, INF = 1e9, dist = new Float64Array(N * N), r, c, i;
    for (r = 0; r < N; r++) {
      for (c = 0; c < N; c++) {
        i = r * N + c;
        var t = best[i], edge = r === 0 || c === 0 || r === N - 1 || c === N - 1 ||
          best[i - 1] !== t || best[i + 1] !== t || best[i - N] !== t || best[i + N] !== t;
        dist[i] = edge ? 0 : INF;
      }
    }
    var D = Math.SQRT2;
    for (r = 1; r < N; r++) {
      for (c = 1; c < N - 1; c++) {
        i = r * N + c;
        dist[i] = Math.min(dist[i], dist[i - 1] + 1, dist[i - N] + 1, dist[i - N - 1] + D, dist[i - N + 1] + D);
      }
    }
    for (r = N - 2; r >= 0; r--) {
      for (c = N - 2; c >= 1; c--) {
        i = r * N + c;
        dist[i] = Math.min(dist[i], dist[i + 1] + 1, dist[i + N] + 1, dist[i + N + 1] + D, dist[i + N - 1] + D);
      }
    }
    var tokens = {}, M = N + 1, sum = new Int32Array(M * M), out = [];
    for (i = 0; i < N * N; i++) tokens[best[i]] = true;
    Object.keys(tokens).forEach(function (key) {
      var t = +key, label = labelOf(t);
      // the cells r − hh … r + hh, c − hw … c + hw hold the text (its halo, 1.5 px a side, may reach past the edge)
      var hw = Math.max(0, Math.ceil((label.w - 3) / 2 / cell - 0.5)), hh = Math.max(0, Math.ceil((label.h - 3) / 2 / cell - 0.5));
      var full = (2 * hw + 1) * (2 * hh + 1);
      for (r = 0; r < N; r++) {  // sum[(r + 1) M + c + 1]: the cells of t in rows ≤ r and columns ≤ c
        for (c = 0; c < N; c++) {
          sum[(r + 1) * M + c + 1] = (best[r * N + c] === t ? 1 : 0) + sum[r * M + c + 1] + sum[(r + 1) * M + c] - sum[r * M + c];
        }
      }
      var fits = [];
      for (r = hh; r < N - hh; r++) {
        for (c = hw; c < N - hw; c++) {
          if (best[r * N + c] !== t) continue;
          var a = r - hh, b = r + hh + 1, l = c - hw, e = c + hw + 1;
          if (sum[b * M + e] - sum[a * M + e] - sum[b * M + l] + sum[a * M + l] === full) fits.push(r * N + c);
        }
      }
      if (!fits.length) {  // too thin for its name: beside it, with a leader line to its deepest cell, if it is not a sliver
        var deep = -1, cells = 0;
        for (i = 0; i < N * N; i++) if (best[i] === t) { cells++; if (deep < 0 || dist[i] > dist[deep]) deep = i; }
        if (cells < minCells) return;
        var ax = (deep % N + 0.5) * cell, ay = (Math.floor(deep / N) + 0.5) * cell, around = [];
        [10, 22, 36].forEach(function (gap) {
          [[1, 0], [-1, 0], [0, -1], [0, 1], [1, -1], [-1, -1], [1, 1], [-1, 1]].forEach(function (u) {
            var x = ax + u[0] * (label.w / 2 + gap), y = ay + u[1] * (label.h / 2 + gap);
            around.push([x - label.w / 2, y - label.h / 2, x + label.w / 2, y + label.h / 2]);
          });
        });
        out.push({ token: t, label: label, spots: around, leader: [ax, ay] });
        return;
      }
      fits.sort(function (p, q) { return dist[q] - dist[p] || p - q; });
      var chosen = [];
      for (var k = 0; k < fits.length && chosen.length < keep; k++) {
        var rk = Math.floor(fits[k] / N), ck = fits[k] % N, near = false;
        for (var j = 0; j < chosen.length && !near; j++) {
          near = Math.abs(chosen[j][0] - rk) < spacing && Math.abs(chosen[j][1] - ck) < spacing;
        }
        if (!near) chosen.push([rk, ck]);
      }
      out.push({ token: t, label: label, spots: chosen.map(function (rc) {
        var x = (rc[1] + 0.5) * cell, y = (rc[0] + 0.5) * cell;
        return [x - label.w / 2, y - label.h / 2, x + label.w / 2, y + label.h / 2];
      }) });
    });
    return out;
  }

  // The first of `boxes` (a label's places, best first) that is on the plane and overprints nothing in `hard` (boxes,
  // but `own`, its own marker) nor `hardSegments`, with the fewest of the `soft` segments through it; else, if
  // `force`, the one with the fewest hard things on it.
  function firstClear(boxes, hard, soft, force, own, hardSegments) {
    var pick = null, fewest = Infinity, least = null, leastHard = Infinity;
    var notOwn = function (box, other) { return other !== own && overlaps(box, other); };
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (!inside(box)) continue;
      var nHard = count(box, hard, notOwn) + (hardSegments ? count(box, hardSegments, crosses) : 0);
      if (nHard === 0) {
        var nSoft = soft.length ? count(box, soft, crosses) : 0;
        if (nSoft < fewest) { pick = box; fewest = nSoft; if (nSoft === 0) break; }
      } else if (force && nHard < leastHard) { least = box; leastHard = nHard; }
    }
    return pick || least;
  }
  // A point's label beside it (r: the marker's radius): right, left, above, below, then the four corners.
  function besidePoint(x, y, r, label) {
    var g = r + 2, w = label.w, h = label.h, d = r * 0.75 + 1;
    return [[x + g, y - h / 2], [x - g - w, y - h / 2], [x - w / 2, y - g - h], [x - w / 2, y + g],
      [x + d, y - d - h], [x + d, y + d], [x - d - w, y - d - h], [x - d - w, y + d]].map(function (o) {
      return [o[0], o[1], o[0] + w, o[1] + h];
    });
  }
  function labelText(label, box, attrs) {
    var a = { x: box[0] + 1.5, y: box[1] + label.ascent, "font-size": label.size, fill: "#000" };
    if (label.bold) a["font-weight"] = 700;
    for (var key in attrs || {}) a[key] = attrs[key];
    return svg("text", a, label.text);
  }
  function markerBox(x, y, r) { return [x - r, y - r, x + r, y + r]; }

  // --- the widget -------------------------------------------------------------------------------------------
  function fmt(v) { return (v < 0 ? "−" : "") + Math.abs(v).toFixed(2); }
  function argmax(a) { var b = 0; for (var i = 1; i < a.length; i++) if (a[i] > a[b]) b = i; return b; }

  function mount(root, data) {
    injectStyle();
    var model = new Model(data), V = data.vocab, plus = data.plus, nCtx = data.config.n_ctx;
    var scen = data.scenarios || [];
    var state = { tokens: (scen[0] ? scen[0].window : [0]).slice(), sel: 0, mode: "token", pins: {}, typed: null };
    state.sel = state.tokens.length - 1;
    var kind = function (t) { return t === plus ? "plus" : (t % 2 ? "odd" : "even"); };
    var name = function (t) { return V[t]; };

    // the view: every input, value and embedding of the trained model, with a margin (fixed: drags stay inside)
    // a point after attention is x + a mix of values: x + v for every pair bounds them all
    var xs = [], vs = [];
    for (var t = 0; t < V.length; t++) {
      for (var p = 0; p < nCtx; p++) {
        var xx = [model.w.W_E[t][0] + model.w.W_pos[p][0], model.w.W_E[t][1] + model.w.W_pos[p][1]];
        xs.push(xx); vs.push(vecmat(xx, model.w.W_V, model.w.b_V));
      }
    }
    var lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
    for (var d0 = 0; d0 < 2; d0++) {
      var col = function (a) { return a.map(function (r) { return r[d0]; }); };
      var xmin = Math.min.apply(null, col(xs)), xmax = Math.max.apply(null, col(xs));
      var vmin = Math.min.apply(null, col(vs)), vmax = Math.max.apply(null, col(vs));
      var others = col(model.w.W_E).concat(col(model.w.W_pos), [xmin, xmax, vmin, vmax]);
      lo[d0] = Math.min.apply(null, others.concat([xmin + Math.min(0, vmin)]));
      hi[d0] = Math.max.apply(null, others.concat([xmax + Math.max(0, vmax)]));
      var pad = (hi[d0] - lo[d0]) * 0.05 + 1e-3;
      lo[d0] -= pad; hi[d0] += pad;
    }
    var sx = function (x) { return (x - lo[0]) / (hi[0] - lo[0]) * SIZE; };
    var sy = function (y) { return SIZE - (y - lo[1]) / (hi[1] - lo[1]) * SIZE; };
    var ix = function (px) { return lo[0] + px / SIZE * (hi[0] - lo[0]); };
    var iy = function (py) { return lo[1] + (SIZE - py) / SIZE * (hi[1] - lo[1]); };
    var clampPt = function (r) { return [Math.min(hi[0], Math.max(lo[0], r[0])), Math.min(hi[1], Math.max(lo[1], r[1]))]; };

    // --- DOM -------------------------------------------------------------------------------------------------
    root.textContent = "";
    var box = el("div", { "class": "gbt" });
    root.appendChild(box);
    var intro = el("p", { "class": "gbt-note" },
      "Choose the tokens the model reads (click a position, then a token, or type " +
      (V.indexOf("10") >= 0 ? "0–10 (10 as 1 then 0)" : "0–" + V[V.length - (plus === null ? 1 : 2)]) +
      (plus !== null ? " and +" : "") + "; arrow keys move and change; Delete removes). Drag a point in the plane, " +
      "or focus it and use the arrow keys (Shift: larger steps).");
    box.appendChild(intro);

    var slotRow = el("div", { "class": "gbt-row", role: "group", "aria-label": "The window the model reads, position 0 first" });
    slotRow.appendChild(el("span", {}, "Window:"));
    box.appendChild(slotRow);
    var slots = [];
    for (var s = 0; s < nCtx; s++) {
      var b = el("button", { type: "button", "class": "gbt-slot", "data-pos": String(s) });
      slots.push(b);
      slotRow.appendChild(b);
    }
    var palRow = el("div", { "class": "gbt-row", role: "group", "aria-label": "Put a token at the chosen position" });
    palRow.appendChild(el("span", {}, "Token:"));
    V.forEach(function (v, t) {
      var pb = el("button", { type: "button", "data-token": String(t), "aria-label": "put " + (v === "+" ? "plus" : v) }, v);
      pb.addEventListener("click", function () { setToken(state.sel, t); });
      palRow.appendChild(pb);
    });
    var del = el("button", { type: "button", "aria-label": "remove the token at the chosen position" }, "⌫");
    del.addEventListener("click", function () { removeAt(state.sel); });
    palRow.appendChild(del);
    box.appendChild(palRow);

    var scRow = el("div", { "class": "gbt-row", role: "group", "aria-label": "Scenarios" });
    scRow.appendChild(el("span", {}, "Try:"));
    scen.forEach(function (sc, i) {
      var sb = el("button", { type: "button", "class": "gbt-scenario", "data-scenario": String(i), title: sc.description }, sc.name);
      sb.addEventListener("click", function () { loadScenario(i); });
      scRow.appendChild(sb);
    });
    var reset = el("button", { type: "button", "class": "gbt-reset" }, "Reset the trained model");
    reset.addEventListener("click", function () {
      model.reset(); state.pins = {};
      if (scen.length) loadScenario(0); else render(false);
    });
    scRow.appendChild(reset);
    box.appendChild(scRow);
    var scNote = el("p", { "class": "gbt-note" });
    box.appendChild(scNote);

    var modes = el("fieldset", { "class": "gbt-modes" });
    modes.appendChild(el("legend", {}, "Drag:"));
    [["token", "token embeddings W_E"], ["position", "position embeddings W_pos"], ["value", "the window's values v"]].forEach(function (m) {
      var id = root.id + "-mode-" + m[0];
      var input = el("input", { type: "radio", name: root.id + "-mode", id: id, value: m[0] });
      if (m[0] === state.mode) input.checked = true;
      input.addEventListener("change", function () { state.mode = m[0]; render(); });
      var label = el("label", { "for": id });
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + m[1]));
      modes.appendChild(label);
    });
    box.appendChild(modes);

    var main = el("div", { "class": "gbt-main" });
    box.appendChild(main);
    var fig = el("div", { "class": "gbt-plane" });
    main.appendChild(fig);
    var plane = svg("svg", { viewBox: "0 0 " + SIZE + " " + SIZE, role: "group",
      "aria-label": "The residual stream's plane over the output landscape: each region is coloured and named by the " +
        "token the model predicts there. Arrows go from each position's input to its point after attention." });
    fig.appendChild(plane);
    var caption = el("p", { "class": "gbt-note gbt-caption" },
      "Regions: the token predicted at each point (→ 4: the model says 4 there). Hollow circles: each position's " +
      "input x; filled: x + attention output; the thick arrow is the last position's, the value it copies.");
    fig.appendChild(caption);
    var defs = svg("defs");
    defs.innerHTML = '<marker id="' + root.id + '-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" ' +
      'markerHeight="6" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#000"/></marker>';
    plane.appendChild(defs);
    var land = svg("image", { x: 0, y: 0, width: SIZE, height: SIZE, preserveAspectRatio: "none", "aria-hidden": "true" });
    plane.appendChild(land);
    var labelLayer = svg("g", { "aria-hidden": "true" }), pathLayer = svg("g");
    var handleLayer = svg("g");
    plane.appendChild(labelLayer); plane.appendChild(pathLayer); plane.appendChild(handleLayer);

    var side = el("div", { "class": "gbt-side" });
    main.appendChild(side);
    var attnHead = el("h4"), attnBars = el("div", { "class": "gbt-bars" });
    var valueText = el("p", { "class": "gbt-note gbt-value" });
    var nextHead = el("h4"), nextBars = el("div", { "class": "gbt-bars gbt-next" });
    var ruleText = el("p", { "class": "gbt-note" });
    side.appendChild(attnHead); side.appendChild(attnBars); side.appendChild(el("h4", {}, "The value copied"));
    side.appendChild(valueText); side.appendChild(nextHead); side.appendChild(nextBars); side.appendChild(ruleText);
    var live = el("p", { "class": "gbt-live", role: "status", "aria-live": "polite" });
    box.appendChild(live);

    // --- the landscape: the most likely token at each point (it depends on the MLP and W_U, which stay fixed) ----
    function drawLandscape() {
      var canvas = document.createElement("canvas");
      canvas.width = GRID; canvas.height = GRID;
      var ctx = canvas.getContext("2d"), img = ctx.createImageData(GRID, GRID);
      var evens = [], best = new Int16Array(GRID * GRID);
      V.forEach(function (_, t) { if (kind(t) === "even") evens.push(t); });
      var colourOf = function (t) {
        var hex = data.palette ? data.palette[t] :
          kind(t) === "plus" ? OKABE[6] : kind(t) === "odd" ? "#9a9a9a" : OKABE[evens.indexOf(t) % 6];
        return [1, 3, 5].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
      };
      for (var r = 0; r < GRID; r++) {
        for (var c = 0; c < GRID; c++) {
          var point = [ix((c + 0.5) / GRID * SIZE), iy((r + 0.5) / GRID * SIZE)];
          var probs = softmax(model.readout(point)), top = argmax(probs), rgb = colourOf(top);
          var mix = 0.35 + 0.35 * (1 - probs[top]);  // towards white: paler where the model is less sure
          for (var i = 0; i < 3; i++) img.data[4 * (r * GRID + c) + i] = Math.round(rgb[i] + (255 - rgb[i]) * mix);
          img.data[4 * (r * GRID + c) + 3] = 255;
          best[r * GRID + c] = top;
        }
      }
      ctx.putImageData(img, 0, 0);
      land.setAttribute("href", canvas.toDataURL("image/png"));
      // the names of the regions: placed at each render (placeRegionLabels), clear of the markers where they can be
      regions = regionSpots(best, function (t) { return new Label("→ " + name(t), 15, true); }, 40, 5, GRID * 2);
      regions.sort(function (p, q) { return (p.leader ? 1 : 0) - (q.leader ? 1 : 0); });  // named inside first
    }
    var regions = [];
    // Each region's name at the first of its spots (deepest inside it first) that no marker or marker's label
    // overprints, and, if it can, that no arrow crosses; else at the spot with the fewest markers on it (a name
    // beside its thin region: only a clear spot, else none). Its box is added to `taken`, for the points' labels.
    function placeRegionLabels(taken, segments) {
      labelLayer.textContent = "";
      regions.forEach(function (reg) {
        var box = firstClear(reg.spots, taken, segments, !reg.leader);
        if (!box) return;
        if (reg.leader) {  // from the region's deepest cell to the nearest point of the label's box
          var ax = reg.leader[0], ay = reg.leader[1];
          var bx = Math.min(box[2], Math.max(box[0], ax)), by = Math.min(box[3], Math.max(box[1], ay));
          labelLayer.appendChild(svg("line", { x1: ax, y1: ay, x2: bx, y2: by, stroke: "#000", "stroke-width": 1 }));
          labelLayer.appendChild(svg("circle", { cx: ax, cy: ay, r: 2, fill: "#000" }));
        }
        labelLayer.appendChild(labelText(reg.label, box));
        taken.push(box);
      });
    }

    // --- editing ---------------------------------------------------------------------------------------------
    function setToken(pos, t) {
      if (pos > state.tokens.length) pos = state.tokens.length;
      if (pos >= nCtx) pos = nCtx - 1;
      state.tokens[pos] = t;
      state.pins = {};
      state.sel = Math.min(pos + 1, nCtx - 1, state.tokens.length);
      render(true);
    }
    function removeAt(pos) {
      if (pos >= state.tokens.length || state.tokens.length <= 1) return;
      state.tokens.splice(pos, 1);
      state.pins = {};
      state.sel = Math.min(pos, state.tokens.length);
      render(true);
    }
    function loadScenario(i) {
      state.tokens = scen[i].window.slice();
      state.pins = {};
      state.sel = state.tokens.length - 1;
      scNote.textContent = scen[i].name + ": " + scen[i].description + ".";
      render(false);
    }
    function focusSlot() { var b = slots[state.sel]; if (b) b.focus(); }

    slots.forEach(function (b, pos) {
      b.addEventListener("click", function () { state.sel = Math.min(pos, state.tokens.length); render(false); focusSlot(); });
      b.addEventListener("keydown", function (e) {
        var k = e.key, here = Math.min(pos, state.tokens.length), cur = state.tokens[here];
        if (/^[0-9]$/.test(k)) {
          var typed = state.typed, ten = V.indexOf("10");
          state.typed = null;
          if (k === "0" && typed && ten >= 0 && Date.now() - typed.time < 1000 && (typed.pos === here - 1 || typed.pos === here)) {
            setToken(typed.pos, ten);  // "1" then "0" within a second: 10 where the 1 went
          } else {
            setToken(here, V.indexOf(k));
            if (k === "1") state.typed = { pos: here, time: Date.now() };
          }
          focusSlot(); e.preventDefault();
        } else if ((k === "+" || k === "=" || k === "p") && plus !== null) {
          setToken(here, plus); focusSlot(); e.preventDefault();
        } else if (k === "ArrowUp" || k === "ArrowDown") {
          var base = cur === undefined ? (k === "ArrowUp" ? -1 : 0) : cur;
          var next = (base + (k === "ArrowUp" ? 1 : -1) + V.length) % V.length;
          if (here < nCtx) { state.tokens[here] = next; state.pins = {}; render(true); focusSlot(); }
          e.preventDefault();
        } else if (k === "ArrowLeft" || k === "ArrowRight" || k === "Home" || k === "End") {
          var last = Math.min(state.tokens.length, nCtx - 1);
          state.sel = k === "Home" ? 0 : k === "End" ? last : Math.max(0, Math.min(last, here + (k === "ArrowLeft" ? -1 : 1)));
          render(false); focusSlot(); e.preventDefault();
        } else if (k === "Delete" || k === "Backspace") {
          removeAt(k === "Backspace" && here === state.tokens.length ? here - 1 : here); focusSlot(); e.preventDefault();
        }
      });
    });

    // --- dragging: the pointer, or the arrow keys on a focused point ------------------------------------------
    function handlesFor(tr) {
      var list = [], w = model.w;
      if (state.mode === "token") {
        V.forEach(function (v, t) {
          list.push({ key: "E" + t, label: v, what: "token " + v + "'s embedding", kind: kind(t), get: function () { return w.W_E[t]; },
            set: function (r) { w.W_E[t] = r; } });
        });
      } else if (state.mode === "position") {
        w.W_pos.forEach(function (_, p) {
          list.push({ key: "P" + p, label: "p" + p, what: "position " + p + "'s embedding", kind: "pos", get: function () { return w.W_pos[p]; },
            set: function (r) { w.W_pos[p] = r; } });
        });
      } else {
        tr.v.forEach(function (vv, p) {
          list.push({ key: "V" + p, label: "v" + p, what: "the value of position " + p + " (token " + name(state.tokens[p]) + ")",
            kind: kind(state.tokens[p]), get: function () { return lastTrace.v[p]; }, set: function (r) { state.pins[p] = r; } });
        });
      }
      return list;
    }
    var lastTrace = null, drag = null;
    function move(h, r) { h.set(clampPt(r).map(Math.fround)); render(true); }
    plane.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var box2 = plane.getBoundingClientRect();
      move(drag, [ix((e.clientX - box2.left) / box2.width * SIZE), iy((e.clientY - box2.top) / box2.height * SIZE)]);
    });
    var endDrag = function () { drag = null; };
    plane.addEventListener("pointerup", endDrag);
    plane.addEventListener("pointercancel", endDrag);

    // The handles, each a focusable group; `marks` gets their markers' boxes and `labels` their names, to place.
    function drawHandles(tr, marks, labels) {
      var active = document.activeElement && document.activeElement.getAttribute("data-key");
      handleLayer.textContent = "";
      handlesFor(tr).forEach(function (h) {
        var r = h.get(), colour = KIND[h.kind] || "#333";
        var words = h.label + ": " + h.what + " at (" + fmt(r[0]) + ", " + fmt(r[1]) + "); arrow keys move it";
        var g = svg("g", { "class": "gbt-handle", tabindex: "0", role: "button", "data-key": h.key,
          "aria-roledescription": "movable point", "aria-label": words });
        var shape = h.kind === "pos" ? svg("rect", { x: sx(r[0]) - 6, y: sy(r[1]) - 6, width: 12, height: 12,
          transform: "rotate(45 " + sx(r[0]) + " " + sy(r[1]) + ")", fill: "#fff", stroke: "#333", "stroke-width": 2 })
          : svg("circle", { cx: sx(r[0]), cy: sy(r[1]), r: 7, fill: "#fff", stroke: colour, "stroke-width": 3 });
        g.appendChild(svg("circle", { cx: sx(r[0]), cy: sy(r[1]), r: 14, fill: "transparent" }));
        g.appendChild(shape);
        marks.push(markerBox(sx(r[0]), sy(r[1]), 9));
        labels.push({ x: sx(r[0]), y: sy(r[1]), r: 9, label: new Label(h.label, 13, false), parent: g, words: words,
          own: marks[marks.length - 1] });
        g.addEventListener("pointerdown", function (e) { drag = h; plane.setPointerCapture(e.pointerId); g.focus(); e.preventDefault(); });
        g.addEventListener("keydown", function (e) {
          var step = (e.shiftKey ? 0.1 : 0.02), dx = 0, dy = 0;
          if (e.key === "ArrowLeft") dx = -1; else if (e.key === "ArrowRight") dx = 1;
          else if (e.key === "ArrowUp") dy = 1; else if (e.key === "ArrowDown") dy = -1; else return;
          var cur = h.get();
          move(h, [cur[0] + dx * step * (hi[0] - lo[0]), cur[1] + dy * step * (hi[1] - lo[1])]);
          e.preventDefault();
        });
        handleLayer.appendChild(g);
      });
      var again = active && handleLayer.querySelector('[data-key="' + active + '"]');
      if (again) again.focus();
    }

    // --- drawing ---------------------------------------------------------------------------------------------
    // The labels, none over a marker or another label: the regions' names first (each in its region), then, greedily,
    // the last position's point (always shown), the point it attends to most, the handles, and the other points by
    // the attention the last position pays them; a label with no room beside its point is left out (its point keeps
    // its name in its aria-label, and in a <title> for the pointer). Only the last position's thick arrow is kept
    // clear of; the thin ones are crossed where no place beside the point avoids them.
    function placeLabels(marks, segments, points, handleLabels) {
      var taken = marks.slice(), thick = segments.slice(-1);
      placeRegionLabels(taken, segments);
      points.sort(function (p, q) { return q.weight - p.weight; });
      points.slice(0, 2).concat(handleLabels, points.slice(2)).forEach(function (item, i) {
        var box = firstClear(besidePoint(item.x, item.y, item.r, item.label), taken, segments, i === 0, item.own, thick);
        if (box) {
          item.parent.appendChild(labelText(item.label, box));
          taken.push(box);
        } else if (item.words) {
          item.parent.appendChild(svg("title", {}, item.words));
        }
      });
    }

    var announceTimer = null;
    function render(announce) {
      var toks = state.tokens, n = toks.length, tr = model.forward(toks, state.pins);
      lastTrace = tr;
      slots.forEach(function (b, pos) {
        var has = pos < n, t = toks[pos];
        b.textContent = has ? name(t) : (pos === n ? "·" : "");
        b.className = "gbt-slot" + (has ? "" : " gbt-empty");
        b.hidden = pos > n;
        b.setAttribute("aria-current", pos === state.sel ? "true" : "false");
        b.setAttribute("tabindex", pos === state.sel ? "0" : "-1");
        b.setAttribute("aria-label", "position " + pos + ": " + (has ? (t === plus ? "plus" : name(t)) : "empty, type a token to add one") +
          (pos === state.sel ? ", chosen" : ""));
      });
      // paths: x (hollow) → x + attention output (filled), for every position, each named for screen readers (and
      // on hover) whether or not its label finds room on the plane
      pathLayer.textContent = "";
      var qp = n - 1, a = tr.pattern[qp], topKey = argmax(a), marks = [], segments = [], points = [], handleLabels = [];
      for (var p = 0; p < n; p++) {
        var x = tr.x[p], m = tr.mid[p], last = p === qp, c = KIND[kind(toks[p])], rm = last ? 6 : 4;
        var X = [sx(x[0]), sy(x[1])], M = [sx(m[0]), sy(m[1])], tag = name(toks[p]) + "_" + p;
        var words = tag + ": token " + name(toks[p]) + " at position " + p + ", input x (" + fmt(x[0]) + ", " + fmt(x[1]) +
          "), after attention (" + fmt(m[0]) + ", " + fmt(m[1]) + ")";
        var g = svg("g", { role: "img", "aria-label": words });
        g.appendChild(svg("title", {}, words));
        g.appendChild(svg("line", { x1: X[0], y1: X[1], x2: M[0], y2: M[1], stroke: last ? "#000" : "#333",
          "stroke-width": last ? 3 : 1.2, "marker-end": "url(#" + root.id + "-arrow)", opacity: last ? 1 : 0.8 }));
        g.appendChild(svg("circle", { cx: X[0], cy: X[1], r: 4, fill: "#fff", stroke: c, "stroke-width": 2 }));
        g.appendChild(svg("circle", { cx: M[0], cy: M[1], r: rm, fill: c, stroke: "#fff", "stroke-width": 1 }));
        pathLayer.appendChild(g);
        marks.push(markerBox(X[0], X[1], 5), markerBox(M[0], M[1], rm + 1));
        segments.push([X[0], X[1], M[0], M[1]]);
        points.push({ x: M[0], y: M[1], r: rm + 1, label: new Label(tag, last ? 14 : 11, last), parent: g, own: marks[marks.length - 1],
          weight: last ? 2 : p === topKey ? 1.5 : a[p] });
      }
      drawHandles(tr, marks, handleLabels);
      placeLabels(marks, segments, points, handleLabels);
      // the last position's attention over the keys
      attnHead.textContent = "Attention of the last position (" + name(toks[qp]) + " at " + qp + ") over the keys";
      attnBars.textContent = "";
      a.forEach(function (wgt, j) {
        var row = j === topKey ? "gbt-top" : "";
        attnBars.appendChild(el("span", { "class": row }, name(toks[j]) + " at " + j));
        var bar = el("span", { "class": "gbt-bar", "aria-hidden": "true" });
        bar.appendChild(el("span", { "class": "gbt-" + kind(toks[j]), style: "width:" + (100 * wgt).toFixed(1) + "%" }));
        attnBars.appendChild(bar);
        attnBars.appendChild(el("span", { "class": "gbt-num " + row, "data-weight": String(wgt) }, wgt.toFixed(2)));
      });
      var z = tr.z[qp], pinned = Object.keys(state.pins).length;
      valueText.textContent = "z = Σ weight × v = (" + fmt(z[0]) + ", " + fmt(z[1]) + "), mostly v" + topKey + " (token " +
        name(toks[topKey]) + ", weight " + a[topKey].toFixed(2) + "): the thick arrow." +
        (pinned ? " " + pinned + " value(s) moved by you." : "");
      // the next-token distribution
      var probs = tr.probs[qp], best = argmax(probs);
      nextHead.textContent = "Next token after " + name(toks[qp]) + " (position " + qp + ")";
      nextBars.textContent = "";
      probs.forEach(function (pr, t) {
        var row = t === best ? "gbt-top" : "";
        nextBars.appendChild(el("span", { "class": row }, name(t) + (t === best ? " ◀" : "")));
        var bar = el("span", { "class": "gbt-bar", "aria-hidden": "true" });
        bar.appendChild(el("span", { "class": "gbt-" + kind(t), style: "width:" + (100 * pr).toFixed(1) + "%" }));
        nextBars.appendChild(bar);
        nextBars.appendChild(el("span", { "class": "gbt-num " + row, "data-prob": String(pr) }, pr.toFixed(2)));
      });
      var allowed = ruleTarget(toks), words2;
      if (allowed === undefined) words2 = "";
      else if (allowed === null) words2 = "The rule leaves this next token free.";
      else {
        var agrees = allowed.indexOf(best) >= 0;
        words2 = (allowed.length === 1 ? "The rule asks for " + name(allowed[0]) :
          "The rule allows any of " + allowed.map(name).join(" ")) +
          (agrees ? "; the model agrees." : "; the model predicts " + name(best) + ".");
      }
      ruleText.textContent = words2;
      var words = (toks[qp] === plus ? "After this + (position " + qp + ")" : "After " + name(toks[qp]) + " (position " + qp + ")") +
        ", the model predicts " + name(best) + " with " + probs[best].toFixed(2) + ".";
      clearTimeout(announceTimer);
      if (announce === false) live.textContent = words;
      else announceTimer = setTimeout(function () { live.textContent = words; }, 350);
      root.setAttribute("data-prediction", name(best));
    }

    // the rule's answer for the next token: the tokens it allows (undefined for a rule this script does not know;
    // null where the next token is free), read from the window as if it were the whole sequence
    function ruleTarget(toks) { return allowedNext(data.rule, toks, V.length, plus); }

    drawLandscape();
    if (scen.length) loadScenario(0); else render(false);

    // for the site check and tests: the forward pass, the state, and loading a window
    root.glassboxTouch = {
      model: model,
      forward: function (tokens) { return model.forward(tokens, null).logits; },
      allowedNext: function (tokens) { var a = ruleTarget(tokens); return a === undefined ? "unknown" : a; },
      state: function () {
        var tr = model.forward(state.tokens, state.pins);
        return { tokens: state.tokens.slice(), pins: JSON.parse(JSON.stringify(state.pins)), W_E: copy(model.w.W_E),
          W_pos: copy(model.w.W_pos), logits: tr.logits, probs: tr.probs, live: live.textContent };
      },
    };
    root.setAttribute("data-ready", "true");
  }

  function mountAll() {
    document.querySelectorAll(".glassbox-touch").forEach(function (root) {
      if (root.getAttribute("data-ready")) return;
      var source = document.querySelector('script.glassbox-touch-model[data-for="' + root.id + '"]');
      if (!source) return;
      mount(root, JSON.parse(source.textContent));
    });
  }

  window.GlassBoxTouch = { mountAll: mountAll, Model: Model, allowedNext: allowedNext, rules: Object.keys(RULES) };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
