// The command dashboard's charts (ECharts), drawn from the data embedded in the page.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var words = JSON.parse(document.getElementById("dashboard-labels").textContent);
  var colours = { confirmed: "#c8102e", asymptomatic: "#9e77ed", suspected: "#f79009" };
  var riskColours = { high: "#d92d20", medium: "#f79009", low: "#fdd835" };
  var charts = [];

  function draw(name, option) {
    var box = document.getElementById("chart-" + name);
    if (!box) { return; }
    var chart = echarts.getInstanceByDom(box) || echarts.init(box);
    chart.setOption(option, true);
    charts.push(chart);
    box.dataset.ready = "1";  // drawn: tests and screenshots wait for this
  }

  function epi(by) {
    var curve = data["epi_" + by];
    var series = Object.keys(curve.series).map(function (key) {
      return { name: words[key], type: "bar", stack: "cases", data: curve.series[key],
               itemStyle: { color: colours[key] } };
    });
    series.push({ name: words.cumulative, type: "line", yAxisIndex: 1, data: curve.cumulative,
                  showSymbol: false, lineStyle: { color: "#344054" } });
    draw("epi", {
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 40, right: 50, top: 40, bottom: 30 },
      xAxis: { type: "category", data: curve.days },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", minInterval: 1, splitLine: { show: false } }],
      series: series
    });
  }

  function rt() {
    var w = data.rt.windows;
    var days = w.map(function (x) { return x.t_end_day; });
    var low = w.map(function (x) { return x.mean === null ? null : x.quantile_025; });
    var width = w.map(function (x) { return x.mean === null ? null : x.quantile_975 - x.quantile_025; });
    draw("rt", {
      tooltip: { trigger: "axis" }, legend: { top: 0, data: [words.rt, words.band] },
      grid: { left: 40, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: days }, yAxis: { type: "value" },
      series: [
        { name: "low", type: "line", stack: "band", data: low, lineStyle: { opacity: 0 }, showSymbol: false, tooltip: { show: false } },
        { name: words.band, type: "line", stack: "band", data: width, lineStyle: { opacity: 0 },
          areaStyle: { color: "#b2ddff" }, itemStyle: { color: "#b2ddff" }, showSymbol: false },
        { name: words.rt, type: "line", data: w.map(function (x) { return x.mean; }), showSymbol: false,
          lineStyle: { color: "#175cd3" }, itemStyle: { color: "#175cd3" },
          markLine: { silent: true, symbol: "none", data: [{ yAxis: 1 }], lineStyle: { color: "#98a2b3", type: "dashed" } } }
      ]
    });
  }

  function doubling() {
    draw("doubling", {
      tooltip: { trigger: "axis" }, grid: { left: 40, right: 20, top: 20, bottom: 30 },
      xAxis: { type: "category", data: data.doubling.days }, yAxis: { type: "value" },
      series: [{ name: words.doubling, type: "line", data: data.doubling.values, connectNulls: false }]
    });
  }

  function districts() {
    var rows = data.districts.slice().reverse();
    draw("districts", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: { top: 0 },
      grid: { left: 90, right: 20, top: 40, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rows.map(function (r) { return r.district; }) },
      series: ["confirmed", "asymptomatic", "suspected"].map(function (key) {
        return { name: words[key], type: "bar", stack: "d", itemStyle: { color: colours[key] },
                 data: rows.map(function (r) { return r[key]; }) };
      })
    });
  }

  function map() {
    var geo = data.map;
    echarts.registerMap("fangkong-dashboard", geo);
    var most = 1;
    geo.features.forEach(function (f) { most = Math.max(most, f.properties.cases); });
    draw("map", {
      tooltip: { trigger: "item", formatter: function (item) {
        var p = (item.data || {}).p || {};
        var risk = p.risk ? words["risk_" + p.risk] : words.no_risk;
        return echarts.format.encodeHTML((p.parent ? p.parent + " · " : "") + (p.name || "")) +
          "<br>" + words.cases7 + ": " + (p.cases || 0) + "<br>" + risk;
      } },
      visualMap: { min: 0, max: most, calculable: true, left: 0, bottom: 0, inRange: { color: ["#f2f4f7", "#fda29b", "#b42318"] } },
      series: [{
        type: "map", map: "fangkong-dashboard", nameProperty: "code", roam: true, label: { show: false },
        emphasis: { label: { show: false } }, select: { disabled: true },
        data: geo.features.map(function (f) {
          var p = f.properties;
          return { name: p.code, value: p.cases, p: p,
                   itemStyle: p.risk ? { borderColor: riskColours[p.risk], borderWidth: 2 } : { borderColor: "#98a2b3", borderWidth: 0.5 } };
        })
      }]
    });
  }

  function coverageMap() {  // the latest round's coverage per community, on the same outlines
    var geo = data.coverage_map;
    if (!geo) { return; }
    echarts.registerMap("fangkong-coverage", geo);
    draw("coverage-map", {
      tooltip: { trigger: "item", formatter: function (item) {
        var p = (item.data || {}).p || {};
        var share = p.coverage === null || p.coverage === undefined ? "—" : p.coverage + "%";
        return echarts.format.encodeHTML((p.parent ? p.parent + " · " : "") + (p.name || "")) +
          "<br>" + words.covered + ": " + share + " (" + (p.covered || 0) + " / " + (p.expected || 0) + ")";
      } },
      visualMap: { min: 50, max: 100, calculable: true, left: 0, bottom: 0, inRange: { color: ["#b42318", "#fdb022", "#12b76a"] } },
      series: [{
        type: "map", map: "fangkong-coverage", nameProperty: "code", roam: true, label: { show: false },
        emphasis: { label: { show: false } }, select: { disabled: true },
        data: geo.features.map(function (f) {
          var p = f.properties;
          return { name: p.code, value: p.coverage === null ? NaN : p.coverage, p: p };
        })
      }]
    });
  }

  function show(by) {  // the curve, its CSV link, the onset note, and the choice kept for "Show"
    epi(by);
    var radio = document.querySelector("input[name=epi-by][value=" + by + "]");
    radio.closest(".chart-card").querySelector(".csv-link").href = radio.dataset.csv;
    document.querySelectorAll("[data-by]").forEach(function (note) { note.hidden = note.dataset.by !== by; });
    var kept = document.querySelector("form input[name=by]");
    if (kept) { kept.value = by; }
  }

  var chosen = document.querySelector("input[name=epi-by]:checked");
  show(chosen ? chosen.value : "report"); rt(); doubling(); districts(); map(); coverageMap();
  document.querySelectorAll("input[name=epi-by]").forEach(function (radio) {
    radio.addEventListener("change", function () { show(radio.value); });
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.body.dataset.dashboardReady = "1";
})();
