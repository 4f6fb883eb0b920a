/**
 * The script inlined into the HTML report: it draws the SVG charts from the embedded run data.
 * Plain ES5-ish JavaScript with no template literals, so it can live in this string as is.
 * Every chart element carries data attributes (series, point counts, node names) so a test can
 * check that what is drawn comes from the run's data.
 */
export const CHARTS_SCRIPT = String.raw`
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var report = JSON.parse(document.getElementById('bench-data').textContent);
  var W = 760, M = { l: 70, r: 20, t: 20, b: 44 };

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var key in attrs) node.setAttribute(key, String(attrs[key]));
    if (parent) parent.appendChild(node);
    return node;
  }
  function label(parent, x, y, content, anchor, cls) {
    var t = el('text', { x: x, y: y, 'text-anchor': anchor || 'start', 'class': cls || 'label' }, parent);
    t.textContent = content;
    return t;
  }
  function fmtMs(ms) {
    if (ms >= 1000) return (ms / 1000).toFixed(2) + 's';
    if (ms >= 10) return ms.toFixed(ms >= 100 ? 0 : 1) + 'ms';
    return ms.toFixed(ms >= 1 ? 2 : 3) + 'ms';
  }
  function niceMax(value) {
    if (!(value > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(value)));
    var m = value / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function prepare(id, height) {
    var svg = document.getElementById(id);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + height);
    svg.setAttribute('width', W);
    svg.setAttribute('height', height);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    return svg;
  }
  function yAxis(svg, height, yMax, formatter) {
    var plotH = height - M.t - M.b;
    for (var i = 0; i <= 4; i++) {
      var v = (yMax * i) / 4;
      var y = height - M.b - (v / yMax) * plotH;
      el('line', { x1: M.l, x2: W - M.r, y1: y, y2: y, 'class': 'grid' }, svg);
      label(svg, M.l - 6, y + 4, formatter(v), 'end');
    }
  }
  function polyline(svg, points, series, cls) {
    return el('polyline', {
      points: points.map(function (p) { return p[0].toFixed(1) + ',' + p[1].toFixed(1); }).join(' '),
      'data-series': series,
      'data-points': points.length,
      'class': 'series ' + cls,
    }, svg);
  }
  function empty(svg, height) {
    label(svg, W / 2, height / 2, 'no answered requests', 'middle', 'empty');
  }

  function drawLatencyOverTime() {
    var H = 300, svg = prepare('chart-latency-over-time', H), tl = report.timeline;
    svg.setAttribute('data-points', tl.length);
    if (tl.length === 0) return empty(svg, H);
    var tMax = tl[tl.length - 1].t + 1;
    var yMax = niceMax(Math.max.apply(null, tl.map(function (p) { return p.p99; })));
    var x = function (t) { return M.l + ((t + 0.5) / tMax) * (W - M.l - M.r); };
    var y = function (v) { return H - M.b - (v / yMax) * (H - M.t - M.b); };
    yAxis(svg, H, yMax, fmtMs);
    var step = Math.max(1, Math.ceil(tMax / 10));
    for (var t = 0; t <= tMax; t += step) label(svg, M.l + (t / tMax) * (W - M.l - M.r), H - M.b + 16, t + 's', 'middle');
    label(svg, (W + M.l) / 2, H - 6, 'seconds into the measured run (by completion)', 'middle', 'axis-title');
    polyline(svg, tl.map(function (p) { return [x(p.t), y(p.p50)]; }), 'p50', 'p50');
    polyline(svg, tl.map(function (p) { return [x(p.t), y(p.p99)]; }), 'p99', 'p99');
    label(svg, W - M.r - 90, M.t + 12, 'p50', 'start', 'legend p50');
    label(svg, W - M.r - 50, M.t + 12, 'p99', 'start', 'legend p99');
  }

  function drawThroughputOverTime() {
    var H = 200, svg = prepare('chart-throughput-over-time', H), tl = report.timeline;
    svg.setAttribute('data-points', tl.length);
    if (tl.length === 0) return empty(svg, H);
    var tMax = tl[tl.length - 1].t + 1;
    var perSec = function (count, p) { return (count * 1000) / Math.max(1, p.spanMs); };
    var yMax = niceMax(Math.max.apply(null, tl.map(function (p) { return perSec(p.answered + p.failed, p); })));
    var x = function (t) { return M.l + ((t + 0.5) / tMax) * (W - M.l - M.r); };
    var y = function (v) { return H - M.b - (v / yMax) * (H - M.t - M.b); };
    yAxis(svg, H, yMax, function (v) { return Math.round(v) + '/s'; });
    polyline(svg, tl.map(function (p) { return [x(p.t), y(perSec(p.answered, p))]; }), 'answered', 'answered');
    polyline(svg, tl.map(function (p) { return [x(p.t), y(perSec(p.failed, p))]; }), 'failed', 'failed');
    label(svg, W - M.r - 150, M.t + 12, 'answered', 'start', 'legend answered');
    label(svg, W - M.r - 60, M.t + 12, 'failed', 'start', 'legend failed');
  }

  function drawPercentiles() {
    var H = 300, svg = prepare('chart-percentiles', H);
    var points = report.percentiles.filter(function (p) { return p.percentile < 100; });
    if (points.length === 0) return empty(svg, H);
    var decades = function (p) { return Math.log10(100 / (100 - p)); };
    var xMax = Math.max(1, Math.ceil(decades(points[points.length - 1].percentile)));
    var max = report.latencyMs.max;
    var yMax = niceMax(max);
    var x = function (p) { return M.l + (decades(p) / xMax) * (W - M.l - M.r); };
    var y = function (v) { return H - M.b - (v / yMax) * (H - M.t - M.b); };
    yAxis(svg, H, yMax, fmtMs);
    var names = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%', '99.9999%'];
    for (var d = 0; d <= xMax; d++) {
      var xd = M.l + (d / xMax) * (W - M.l - M.r);
      el('line', { x1: xd, x2: xd, y1: M.t, y2: H - M.b, 'class': 'grid' }, svg);
      label(svg, xd, H - M.b + 16, names[d] || '', 'middle');
    }
    label(svg, (W + M.l) / 2, H - 6, 'percentile (log scale of 1/(1-p))', 'middle', 'axis-title');
    polyline(svg, points.map(function (p) { return [x(p.percentile), y(p.ms)]; }), 'percentile', 'pct');
    el('line', { x1: M.l, x2: W - M.r, y1: y(max), y2: y(max), 'class': 'max-line', 'data-max-ms': max }, svg);
    label(svg, W - M.r, y(max) - 4, 'max ' + fmtMs(max), 'end', 'legend');
  }

  function drawNodes() {
    var nodes = report.nodes, rowH = 34, H = M.t + Math.max(1, nodes.length) * rowH + M.b;
    var svg = prepare('chart-nodes', H);
    svg.setAttribute('data-nodes', nodes.length);
    if (nodes.length === 0) return label(svg, W / 2, H / 2, 'no node reported', 'middle', 'empty');
    var nameW = 200, half = (W - nameW - M.r) / 2 - 10;
    var shareX = nameW, latX = nameW + half + 20;
    var latMax = niceMax(Math.max.apply(null, nodes.map(function (n) { return n.latency.p99; })));
    label(svg, shareX, M.t - 6, 'share of requests', 'start', 'axis-title');
    label(svg, latX, M.t - 6, 'latency p50 / p99 (answered)', 'start', 'axis-title');
    nodes.forEach(function (n, i) {
      var top = M.t + i * rowH + 4;
      label(svg, nameW - 8, top + 16, n.node.length > 28 ? '…' + n.node.slice(-27) : n.node, 'end');
      el('rect', { x: shareX, y: top, width: Math.max(1, n.share * half), height: 22, 'class': 'bar node-share-bar', 'data-node': n.node, 'data-share': n.share }, svg);
      label(svg, shareX + n.share * half + 4, top + 16, (n.share * 100).toFixed(1) + '%');
      var w50 = (n.latency.p50 / latMax) * half * 0.7, w99 = (n.latency.p99 / latMax) * half * 0.7;
      el('rect', { x: latX, y: top, width: Math.max(1, w99), height: 10, 'class': 'bar node-p99-bar', 'data-node': n.node, 'data-ms': n.latency.p99 }, svg);
      el('rect', { x: latX, y: top + 12, width: Math.max(1, w50), height: 10, 'class': 'bar node-p50-bar', 'data-node': n.node, 'data-ms': n.latency.p50 }, svg);
      label(svg, latX + Math.max(w50, w99) + 4, top + 16, fmtMs(n.latency.p50) + ' / ' + fmtMs(n.latency.p99));
    });
  }

  drawLatencyOverTime();
  drawThroughputOverTime();
  drawPercentiles();
  drawNodes();
  document.body.setAttribute('data-charts-drawn', 'true');
})();
`;
