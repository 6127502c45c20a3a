// The transmission graph of a cluster (ECharts force layout), from the JSON at #cluster's
// data-url. Readable for big clusters: only cases carry labels (only the highlighted one past
// CASE_LABELS cases), cases start on a spiral in the order they were reported with their contacts
// beside them, chain links are long and contact links short. Proposals are dashed and lighter,
// and the legend hides them (or any category) with a click. The words come from #cluster-words.
(function () {
  var CASE_LABELS = 120;
  var box = document.getElementById("cluster");
  if (!box) return;
  var words = JSON.parse(document.getElementById("cluster-words").textContent);
  var colours = {
    confirmed: "#c8102e", suspected: "#f79009", asymptomatic: "#9e77ed", excluded: "#98a2b3",
    contact_close: "#2e90fa", contact_secondary: "#84caff", contacts: "#53b1fd",
    proposal: "#98a2b3", proposals: "#98a2b3", community: "#c8102e"
  };
  var count = function (text, n) { return text.replace("{n}", String(n)); };

  function positions(data) {
    var at = {};
    var cases = data.nodes.filter(function (n) { return n.caseId !== undefined; });
    cases.forEach(function (n, i) {
      var angle = i * 2.4, radius = 60 * Math.sqrt(i + 1);
      at[n.id] = [Math.cos(angle) * radius, Math.sin(angle) * radius];
    });
    for (var pass = 0; pass < 2; pass++) {  // a contact next to its case (or the contact it came through)
      data.links.forEach(function (l, i) {
        if (at[l.source] && !at[l.target]) {
          var angle = i * 0.7;
          at[l.target] = [at[l.source][0] + Math.cos(angle) * 15, at[l.source][1] + Math.sin(angle) * 15];
        }
      });
    }
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
      node.label = { show: n.caseId !== undefined && (data.cases <= CASE_LABELS || n.origin), fontWeight: n.origin ? "bold" : "normal" };
      if (n.origin) node.itemStyle = { borderColor: "#101828", borderWidth: 3, shadowBlur: 12, shadowColor: "rgba(200, 16, 46, .7)" };
      else if (n.proposed) node.itemStyle = { opacity: 0.55, borderType: "dashed", borderColor: "#475467", borderWidth: 1 };
      return node;
    });
    var links = data.links.map(function (l) {
      var style = l.chain ? { width: 2, opacity: 0.85, color: "#c8102e" }
        : l.proposed ? { type: "dashed", opacity: 0.3 } : { opacity: 0.45 };
      return Object.assign({}, l, { value: l.chain ? 1 : (l.value || 10), lineStyle: style });
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
          repulsion: big ? [20, 60] : [60, 120], gravity: 0.08, friction: 0.3,
          edgeLength: big ? [8, 80] : [20, 120], layoutAnimation: !big
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
