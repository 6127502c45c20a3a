// Risk-area map of the public portal: community and grid outlines coloured by risk level.
(function () {
  "use strict";
  var box = document.getElementById("risk-map");
  if (!box || !window.echarts) { return; }
  var colours = { high: "#d92d20", medium: "#f79009", low: "#fdd835" };
  var rank = { high: 3, medium: 2, low: 1 };
  fetch(box.dataset.src, { headers: { Accept: "application/geo+json" } })
    .then(function (r) { return r.json(); })
    .then(function (geo) {
      echarts.registerMap("fangkong-risk", geo);
      var data = geo.features.map(function (f) {
        var p = f.properties;
        return {
          name: p.code,
          value: p.level ? rank[p.level] : 0,
          label: p.parent ? p.parent + " · " + p.name : p.name,
          level: p.level, since: p.since, reason: p.reason,
          itemStyle: { areaColor: p.level ? colours[p.level] : "#f2f4f7" }
        };
      });
      var chart = echarts.init(box);
      chart.setOption({
        tooltip: {
          trigger: "item",
          formatter: function (item) {
            var d = item.data || {};
            var text = echarts.format.encodeHTML(d.label || "");
            if (!d.level) { return text + "<br>" + box.dataset.none; }
            return text + "<br>" + box.dataset[d.level] + " · " + box.dataset.since + " " + d.since +
              "<br>" + echarts.format.encodeHTML(d.reason || "");
          }
        },
        series: [{
          type: "map", map: "fangkong-risk", nameProperty: "code", roam: true,
          label: { show: false },
          emphasis: { label: { show: false }, itemStyle: { areaColor: "#84caff" } },
          layoutCenter: ["50%", "50%"], layoutSize: "100%",
          itemStyle: { borderColor: "#98a2b3", borderWidth: 0.5 },
          select: { disabled: true },
          data: data
        }]
      });
      window.addEventListener("resize", function () { chart.resize(); });
      box.dataset.ready = "1";  // drawn: tests and screenshots wait for this
    });
})();
