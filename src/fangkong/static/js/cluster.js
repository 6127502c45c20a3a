// The transmission graph of a cluster (ECharts force layout), from the JSON at #cluster's
// data-url. Readable for big clusters: only cases carry labels (their serial past SHORT_LABELS
// cases, only the highlighted one past CASE_LABELS), many cases start as a radial tree of the
// chain, and contact links are short. Proposals are dashed and lighter,
// and the legend hides them (or any category) with a click. The words come from #cluster-words.
(function () {
  var CASE_LABELS = 120;
  var TREE_FROM = 12;
  var SHORT_LABELS = 20;
  var box = document.getElementById("cluster");
  if (!box) return;
  var words = JSON.parse(document.getElementById("cluster-words").textContent);
  var colours = {
    confirmed: "#c8102e", suspected: "#f79009", asymptomatic: "#9e77ed", excluded: "#98a2b3",
    contact_close: "#2e90fa", contact_secondary: "#84caff", contacts: "#53b1fd",
    proposal: "#98a2b3", proposals: "#98a2b3", community: "#c8102e"
  };
  var count = function (text, n) { return text.replace("{n}", String(n)); };

  // Many cases start as a radial tree of the chain (the first case reported in the middle, each
  // ring one generation further, each branch its own wedge), so the force layout only relaxes a
  // drawing without crossings instead of untangling a knot; a group of contacts starts beside its
  // case. Few cases start at random, as usual.
  function positions(data) {
    var at = {};
    var cases = data.nodes.filter(function (n) { return n.caseId !== undefined; });
    if (cases.length < TREE_FROM) return at;
    var next = {};
    cases.forEach(function (n) { next[n.id] = []; });
    data.links.forEach(function (l) {
      if (!l.chain || !next[l.source] || !next[l.target]) return;
      next[l.source].push(l.target);
      next[l.target].push(l.source);
    });
    var parent = {}, depth = {}, order = [];
    cases.forEach(function (start) {  // a case cut off by scope roots a tree of its own
      if (depth[start.id] !== undefined) return;
      depth[start.id] = 0;
      parent[start.id] = null;
      for (var queue = [start.id]; queue.length;) {
        var id = queue.shift();
        order.push(id);
        next[id].forEach(function (other) {
          if (depth[other] !== undefined) return;
          depth[other] = depth[id] + 1;
          parent[other] = id;
          queue.push(other);
        });
      }
    });
    var leaves = {}, kids = {};
    order.slice().reverse().forEach(function (id) {
      leaves[id] = Math.max(1, leaves[id] || 0);
      if (parent[id] !== null) {
        leaves[parent[id]] = (leaves[parent[id]] || 0) + leaves[id];
        (kids[parent[id]] = kids[parent[id]] || []).unshift(id);
      }
    });
    var deepest = Math.max.apply(null, order.map(function (id) { return depth[id]; })) || 1;
    // the tree's radius in the layout's units, near the size the forces settle at (the view is
    // fitted to the starting positions: too small a start and the settled drawing overflows)
    var width = box.clientWidth, height = box.clientHeight;
    var reach = Math.max(Math.min(width, height) * 0.4, 62 * Math.sqrt(cases.length));
    var roots = order.filter(function (id) { return parent[id] === null; });
    var total = roots.reduce(function (sum, id) { return sum + leaves[id]; }, 0);
    var place = function (id, from, to) {
      var angle = (from + to) / 2, radius = reach * depth[id] / deepest;
      at[id] = [width / 2 + Math.cos(angle) * radius, height / 2 + Math.sin(angle) * radius];
      var start = from;
      (kids[id] || []).forEach(function (kid) {
        var end = start + (to - from) * leaves[kid] / leaves[id];
        place(kid, start, end);
        start = end;
      });
    };
    var start = 0;
    roots.forEach(function (id) {
      var end = start + 2 * Math.PI * leaves[id] / total;
      place(id, start, end);
      start = end;
    });
    data.links.forEach(function (l, i) {
      if (at[l.source] && !at[l.target]) {
        var angle = i * 0.7;
        at[l.target] = [at[l.source][0] + Math.cos(angle) * 12, at[l.source][1] + Math.sin(angle) * 12];
      }
    });
    return at;
  }

  function draw(data) {
    var present = {};
    data.nodes.forEach(function (n) { present[n.category] = true; });
    var names = Object.keys(colours).filter(function (k) { return present[k]; });
    var index = {};
    names.forEach(function (k, i) { index[k] = i; });
    var label = function (k) {
      if (k === "proposal" || k === "proposals") return count(words.proposals, data.proposals);
      return words.categories[k] || k;
    };
    var big = data.nodes.length > 300;
    var at = positions(data);
    var nodes = data.nodes.map(function (n) {
      var node = Object.assign({}, n, { category: index[n.category] });
      if (at[n.id]) { node.x = at[n.id][0]; node.y = at[n.id][1]; }
      node.label = {
        show: n.caseId !== undefined && (data.cases <= CASE_LABELS || n.origin),
        fontWeight: n.origin ? "bold" : "normal",
        formatter: data.cases > SHORT_LABELS && !n.origin ? function (p) { return p.name.split("-").pop(); } : "{b}"
      };
      if (n.origin) node.itemStyle = { borderColor: "#101828", borderWidth: 3, shadowBlur: 12, shadowColor: "rgba(200, 16, 46, .7)" };
      else if (n.proposed) node.itemStyle = { opacity: 0.55, borderType: "dashed", borderColor: "#475467", borderWidth: 1 };
      return node;
    });
    var links = data.links.map(function (l) {
      var style = l.chain ? { width: 2, opacity: 0.85, color: "#c8102e" }
        : l.proposed ? { type: "dashed", opacity: 0.3 } : { opacity: 0.45 };
      return Object.assign({}, l, { value: l.chain ? 4 : (l.value || 10), lineStyle: style });
    });
    var chart = echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({
      animation: !big,
      tooltip: {
        formatter: function (p) {
          if (p.dataType !== "node") return "";
          var d = p.data, text = (words.categories[names[d.category]] || "") + (d.name ? " · " + d.name : "");
          if (d.origin) text += " · " + words.origin;
          if (d.companions) text += " · " + count(words.companions, d.companions);
          return text;
        }
      },
      legend: { data: names, formatter: label, top: 0, type: "scroll" },
      series: [{
        type: "graph", layout: "force", roam: true, draggable: !big, top: 40,
        force: {
          repulsion: big ? [20, 60] : [40, 100], gravity: 0.15, friction: 0.3,
          edgeLength: big ? [8, 60] : [15, 70], layoutAnimation: !big
        },
        categories: names.map(function (k) {
          return { name: k, itemStyle: { color: colours[k], opacity: k.indexOf("proposal") === 0 ? 0.55 : 1 } };
        }),
        data: nodes, links: links,
        emphasis: { focus: "adjacency", label: { show: true } }
      }]
    });
    chart.on("click", function (p) {
      if (p.data && p.data.caseId) window.location = "/cases/" + p.data.caseId + "/";
    });
    window.addEventListener("resize", function () { chart.resize(); });
    var summary = [words.cases + " " + data.cases, words.contacts + " " + data.contacts];
    if (data.proposals) summary.push(count(words.proposals, data.proposals));
    if (data.companions) summary.push(count(words.companions, data.companions));
    summary.push(words.levels[data.level] || data.level);
    document.getElementById("cluster-summary").textContent = summary.join(" · ");
    box.dataset.ready = "1";
  }

  fetch(box.dataset.url, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(draw);
})();
