// The graph page's behaviour: namespaces that collapse and expand, zoom and fit,
// search, neighbours on hover, and the cluster selector.  Plain DOM, no library,
// nothing fetched; every drawing (a .graph-view) works on its own.
(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var COLLAPSED_HEIGHT = 26; // a collapsed namespace: its header only
  var HEADER_HEIGHT = 24;
  var EXPAND_HITS = 50; // typing expands the namespaces of at most this many matches

  function setup(view) {
    var box = view.querySelector('.graph-box');
    var svg = box ? box.querySelector('svg') : null;
    var bar = view.querySelector('.toolbar');
    if (!svg || !bar) { return; }
    var w = parseFloat(svg.getAttribute('width'));
    var h0 = parseFloat(svg.getAttribute('height'));
    var vb = (svg.getAttribute('viewBox') || '').trim().split(/[\s,]+/).map(parseFloat);
    if (vb.length !== 4 || vb.some(isNaN)) { vb = [0, 0, w, h0]; }
    var h = h0;
    var scale = 1;
    var fitted = false;

    // ------------------------------------------------------------ namespaces
    var lanes = [];
    var laneByName = {};
    svg.querySelectorAll('g.lane[data-namespace]').forEach(function (g) {
      var rect = g.querySelector('rect');
      var text = g.querySelector('text');
      if (!rect || !text) { return; }
      var top = parseFloat(rect.getAttribute('y'));
      var lane = {
        name: g.getAttribute('data-namespace'), g: g, rect: rect, text: text,
        top: top, bottom: top + parseFloat(rect.getAttribute('height')),
        textY: parseFloat(text.getAttribute('y')), collapsed: false, bySearch: false,
        newTop: top, newHeight: 0, shiftAfter: 0
      };
      var head = document.createElementNS(SVGNS, 'rect');
      head.setAttribute('class', 'head');
      head.setAttribute('x', rect.getAttribute('x'));
      head.setAttribute('width', rect.getAttribute('width'));
      head.setAttribute('height', String(HEADER_HEIGHT));
      head.setAttribute('tabindex', '0');
      head.setAttribute('role', 'button');
      g.appendChild(head);
      var mark = document.createElementNS(SVGNS, 'tspan');
      mark.setAttribute('class', 'toggle');
      text.insertBefore(mark, text.firstChild);
      lane.head = head;
      lane.mark = mark;
      function toggle() { lane.collapsed = !lane.collapsed; lane.bySearch = false; apply(); }
      head.addEventListener('click', toggle);
      text.addEventListener('click', toggle);
      head.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); }
      });
      lanes.push(lane);
      laneByName[lane.name] = lane;
    });
    lanes.sort(function (a, b) { return a.top - b.top; });

    var nodes = Array.prototype.slice.call(svg.querySelectorAll('.node[data-id]'));
    var edges = Array.prototype.slice.call(svg.querySelectorAll('.edge[data-from]'));
    var laneOfId = {};
    nodes.forEach(function (n) {
      laneOfId[n.getAttribute('data-id')] = laneByName[n.getAttribute('data-namespace')];
    });
    var edgePaths = edges.map(function (e) { return e.getAttribute('d') || ''; });
    var neighbours = {};
    edges.forEach(function (e) {
      var a = e.getAttribute('data-from'), b = e.getAttribute('data-to');
      (neighbours[a] = neighbours[a] || []).push(b);
      (neighbours[b] = neighbours[b] || []).push(a);
    });

    // Where a y of the full drawing goes once some namespaces are collapsed:
    // lanes below a collapsed one move up, a collapsed lane squeezes into its header.
    function mapY(y) {
      var lo = 0, hi = lanes.length - 1, k = -1;
      while (lo <= hi) {
        var mid = (lo + hi) >> 1;
        if (lanes[mid].top <= y) { k = mid; lo = mid + 1; } else { hi = mid - 1; }
      }
      if (k < 0) { return y; }
      var lane = lanes[k];
      if (y > lane.bottom) { return y + lane.shiftAfter; }
      if (lane.collapsed) {
        return lane.newTop + (y - lane.top) * lane.newHeight / (lane.bottom - lane.top);
      }
      return y + lane.newTop - lane.top;
    }

    function round(v) { return String(Math.round(v * 10) / 10); }

    function apply() {
      var shift = 0;
      lanes.forEach(function (lane) {
        var full = lane.bottom - lane.top;
        lane.newTop = lane.top + shift;
        lane.newHeight = lane.collapsed ? Math.min(COLLAPSED_HEIGHT, full) : full;
        shift += lane.newHeight - full;
        lane.shiftAfter = shift;
        lane.rect.setAttribute('y', round(lane.newTop));
        lane.rect.setAttribute('height', round(lane.newHeight));
        lane.head.setAttribute('y', round(lane.newTop));
        lane.text.setAttribute('y', round(lane.textY + lane.newTop - lane.top));
        lane.mark.textContent = lane.collapsed ? '\u25B8 ' : '\u25BE ';
        lane.g.classList.toggle('collapsed', lane.collapsed);
        lane.head.setAttribute('aria-expanded', lane.collapsed ? 'false' : 'true');
        lane.head.setAttribute('aria-label', (lane.collapsed ? 'Expand ' : 'Collapse ') + lane.name);
      });
      nodes.forEach(function (n) {
        var lane = laneOfId[n.getAttribute('data-id')];
        var folded = !!(lane && lane.collapsed);
        n.classList.toggle('folded', folded);
        var dy = lane && !folded ? lane.newTop - lane.top : 0;
        if (dy) { n.setAttribute('transform', 'translate(0,' + round(dy) + ')'); }
        else { n.removeAttribute('transform'); }
      });
      // Inside a collapsed namespace an edge is hidden; into or out of one, the
      // first of the edges joining the same two visible things stands for them all.
      var seen = {};
      edges.forEach(function (e, i) {
        var from = e.getAttribute('data-from'), to = e.getAttribute('data-to');
        var a = laneOfId[from], b = laneOfId[to];
        var folded = !!(a && a === b && a.collapsed);
        if (!folded && ((a && a.collapsed) || (b && b.collapsed))) {
          var key = (a && a.collapsed ? 'ns:' + a.name : from) + '\n' +
            (b && b.collapsed ? 'ns:' + b.name : to);
          folded = seen[key] === true;
          seen[key] = true;
        }
        e.classList.toggle('folded', folded);
        if (!folded) {
          e.setAttribute('d', edgePaths[i].replace(
            /(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)/g,
            function (_, x, y) { return x + ',' + round(mapY(parseFloat(y))); }));
        }
      });
      var height = vb[3] + shift;
      svg.setAttribute('viewBox', [vb[0], vb[1], vb[2], round(height)].join(' '));
      h = h0 * height / vb[3];
      view.dataset.collapsed = String(lanes.filter(function (l) { return l.collapsed; }).length);
      if (fitted) { fit(); } else { size(); }
    }

    // ------------------------------------------------------------------ zoom
    function size() {
      svg.setAttribute('width', round(w * scale));
      svg.setAttribute('height', round(h * scale));
      view.dataset.scale = String(Math.round(scale * 1000) / 1000);
    }
    // The scale that shows the whole drawing, both axes, in the box (never above 1).
    function fitScale() {
      var limit = parseFloat(window.getComputedStyle(box).maxHeight);
      if (!(limit > 0)) { limit = window.innerHeight * 0.78; }
      var border = box.offsetHeight - box.clientHeight;
      var width = box.clientWidth || box.offsetWidth;
      if (!(width > 0)) { return null; }
      return Math.min(1, (width - 2) / w, (limit - border - 2) / h);
    }
    function fit() {
      var s = fitScale();
      if (s === null) { return; } // hidden: fitted when shown
      scale = s;
      fitted = true;
      size();
    }
    function zoom(f) {
      var s = fitScale();
      scale = Math.max(Math.min(0.2, s === null ? 0.2 : s), Math.min(3, scale * f));
      fitted = false;
      size();
    }
    bar.querySelectorAll('button[data-zoom]').forEach(function (b) {
      b.addEventListener('click', function () {
        var f = b.getAttribute('data-zoom');
        if (f === 'fit') { fit(); } else { zoom(parseFloat(f)); }
      });
    });
    bar.querySelectorAll('button[data-lanes]').forEach(function (b) {
      if (!lanes.length) { b.hidden = true; return; }
      b.addEventListener('click', function () {
        var collapse = b.getAttribute('data-lanes') === 'collapse';
        lanes.forEach(function (l) { l.collapsed = collapse; l.bySearch = false; });
        apply();
      });
    });
    view.hkShown = function () { if (fitted) { fit(); } };

    // ------------------------------------------------------- hover and search
    function clear() {
      nodes.forEach(function (n) { n.classList.remove('dim', 'hit'); });
      edges.forEach(function (e) { e.classList.remove('dim'); });
      lanes.forEach(function (l) { l.g.classList.remove('has-hit'); });
    }
    function highlight(ids) {
      nodes.forEach(function (n) { n.classList.toggle('dim', !ids.has(n.getAttribute('data-id'))); });
      edges.forEach(function (e) {
        var on = ids.has(e.getAttribute('data-from')) && ids.has(e.getAttribute('data-to'));
        e.classList.toggle('dim', !on);
      });
    }
    nodes.forEach(function (n) {
      n.addEventListener('mouseenter', function () {
        var id = n.getAttribute('data-id');
        highlight(new Set([id].concat(neighbours[id] || [])));
      });
      n.addEventListener('mouseleave', clear);
    });
    var input = bar.querySelector('input[type=search]');
    var count = bar.querySelector('.hits');
    function search(expandAll) {
      var q = input.value.trim().toLowerCase();
      clear();
      var changed = false;
      lanes.forEach(function (l) {
        if (l.bySearch) { l.collapsed = true; l.bySearch = false; changed = true; }
      });
      var ids = new Set(), hitLanes = [];
      if (q) {
        nodes.forEach(function (n) {
          var id = n.getAttribute('data-id');
          var text = id.toLowerCase() + ' ' + (n.getAttribute('data-search') || '');
          if (text.indexOf(q) < 0) { return; }
          ids.add(id);
          n.classList.add('hit');
          var lane = laneOfId[id];
          if (lane && hitLanes.indexOf(lane) < 0) { hitLanes.push(lane); }
        });
      }
      var hidden = hitLanes.filter(function (l) { return l.collapsed; });
      if (hidden.length && (expandAll || ids.size <= EXPAND_HITS)) {
        hidden.forEach(function (l) { l.collapsed = false; l.bySearch = true; });
        changed = true;
        hidden = [];
      }
      if (changed) { apply(); }
      hidden.forEach(function (l) { l.g.classList.add('has-hit'); });
      if (count) {
        count.textContent = !q ? '' : ids.size + (ids.size === 1 ? ' match' : ' matches') +
          ' in ' + hitLanes.length + (hitLanes.length === 1 ? ' namespace' : ' namespaces') +
          (hidden.length ? ' (' + hidden.length + ' collapsed: press Enter to expand them)' : '');
      }
      view.dataset.matches = String(ids.size);
      if (!q) { return; }
      highlight(ids);
      var first = svg.querySelector('.node.hit:not(.folded) rect');
      if (first) { first.scrollIntoView({block: 'center', inline: 'center'}); }
    }
    if (input) {
      input.addEventListener('input', function () { search(false); });
      input.addEventListener('keydown', function (e) {
        if (e.key === 'Enter') { e.preventDefault(); search(true); }
      });
    }

    if (lanes.length && view.getAttribute('data-start') === 'collapsed') {
      lanes.forEach(function (l) { l.collapsed = true; });
    }
    if (lanes.length) { apply(); } else { size(); }
  }

  document.querySelectorAll('.graph-view').forEach(setup);

  // One drawing per cluster: the selector shows one of them.
  document.querySelectorAll('select.view-select').forEach(function (select) {
    var group = select.closest('.graph-views');
    if (!group) { return; }
    function show() {
      group.querySelectorAll('.graph-view').forEach(function (v) {
        v.hidden = v.getAttribute('data-view') !== select.value;
        if (!v.hidden && v.hkShown) { v.hkShown(); }
      });
    }
    select.addEventListener('change', show);
    show();
  });
})();
