// Communes of a plan (or of a comparison) from a GeoJSON endpoint of the app.
(function () {
  "use strict";
  var node = document.getElementById("map");
  if (!node) { return; }
  var review = node.dataset.mode === "review";
  var palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"];
  var colours = {};
  var map = L.map("map");
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 18, attribution: "© contributeurs OpenStreetMap"
  }).addTo(map);

  function colour(claims) {
    if (claims.length === 0) { return "#9e9e9e"; }
    if (claims.length > 1) { return "#e31a1c"; }
    if (review) { return "#7fcdbb"; }
    if (!(claims[0] in colours)) { colours[claims[0]] = palette[Object.keys(colours).length % palette.length]; }
    return colours[claims[0]];
  }

  function text(tag, value) { var n = document.createElement(tag); n.textContent = String(value); return n; }

  fetch(node.dataset.geojson).then(function (r) { return r.json(); }).then(function (data) {
    var layer = L.geoJSON(data, {
      style: function (f) {
        var p = f.properties;
        return { fillColor: colour(p.claims), fillOpacity: p.claims.length ? 0.6 : 0.3,
                 color: p.beyond ? "#b10000" : "#555", weight: p.beyond || p.claims.length !== 1 ? 2 : 0.5 };
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        var box = document.createElement("div");
        box.appendChild(text("strong", p.nom + " (" + p.code + ")"));
        box.appendChild(text("div", "Population : " + p.population));
        box.appendChild(text("div", (review ? "Plans : " : "Antenne : ") + (p.claims.join(", ") || "aucun")));
        if (p.minutes !== null) { box.appendChild(text("div", "Temps vers l'antenne : " + p.minutes + " min")); }
        l.bindPopup(box);
      }
    }).addTo(map);
    map.fitBounds(layer.getBounds());
    var legend = L.control({ position: "bottomleft" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      var items = review ? [["#7fcdbb", "Un plan"], ["#e31a1c", "Plusieurs plans"], ["#9e9e9e", "Aucun plan"]]
        : Object.keys(colours).map(function (k) { return [colours[k], k]; }).concat([["#e31a1c", "En double"], ["#9e9e9e", "Non couverte"]]);
      items.forEach(function (it) {
        var row = document.createElement("div");
        var sw = document.createElement("span");
        sw.style.background = it[0];
        row.appendChild(sw);
        row.appendChild(document.createTextNode(it[1]));
        div.appendChild(row);
      });
      return div;
    };
    legend.addTo(map);
  });
})();
