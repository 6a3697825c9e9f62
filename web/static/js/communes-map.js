// Communes of a plan (or of a comparison of plans) from the app's compact map data.
// Colours, styles and legend words come with the data (coverage/maplayers.py and
// geo/mapstyle.py): the same as the report and the folium export.
(function () {
  "use strict";
  var node = document.getElementById("map");
  if (!node || !window.MaillageMap) { return; }
  var M = window.MaillageMap;
  var review = node.dataset.mode === "review";
  var map = M.create(node);
  var nf = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });

  function popup(p, owners) {
    var box = M.el("div");
    box.appendChild(M.el("strong", p.n + " (" + p.c + ")"));
    box.appendChild(M.el("div", "Population : " + nf.format(p.p)));
    box.appendChild(M.el("div", (review ? "Plans : " : "Antenne : ") + (owners.join(", ") || "aucun")));
    if (p.m !== undefined) {
      box.appendChild(M.el("div", "Temps vers l'antenne : " + (p.m === null ? "inaccessible" : nf.format(p.m) + " min")));
    }
    return box;
  }

  function features(data, filter) {
    return { type: "FeatureCollection", features: data.communes.filter(filter || function () { return true; })
      .map(function (c) { return { type: "Feature", geometry: M.polygon(c.g), properties: c }; }) };
  }

  function showPlan(data) {
    var colours = data.antennas.map(function (a) { return a.colour; });
    var names = data.antennas.map(function (a) { return a.name; });
    var communes = L.geoJSON(features(data), {
      style: function (f) {
        var p = f.properties, s = L.extend({}, data.styles[p.s]);
        if (p.s === "antenna") { s.fillColor = colours[p.a[0]]; }
        return s;
      },
      onEachFeature: function (f, l) {
        l.bindPopup(popup(f.properties, f.properties.a.map(function (i) { return names[i]; })));
      }
    }).addTo(map);
    var overlays = { "Communes du plan": communes };
    if (data.beyond_label) {
      var beyond = L.geoJSON(features(data, function (c) { return c.b; }), {
        interactive: false, style: L.extend({}, data.styles.beyond, { fill: false })
      }).addTo(map);
      overlays[M.escapeHtml(data.beyond_label)] = beyond;
    }
    var seats = L.layerGroup(data.seats.map(function (s) {
      var marker = L.circleMarker(s.ll, L.extend({}, data.seat, { fillColor: s.colour, className: "seat", pane: "seats" }));
      // A DOM node, never a string: Leaflet would insert a string as HTML.
      marker.bindTooltip(M.el("span", s.antenna), { permanent: true, direction: "right", offset: [8, 0], className: "seat-label" });
      var box = M.el("div");
      box.appendChild(M.el("strong", "Siège de l'antenne " + s.antenna));
      if (s.commune) { box.appendChild(M.el("div", "Commune : " + s.commune)); }
      marker.bindPopup(box);
      return marker;
    })).addTo(map);
    overlays["Sièges des antennes"] = seats;
    // Isochrones: toggleable layers, off at first (named in the legend).
    (data.isochrones || []).slice().reverse().forEach(function (iso) {
      var layer = L.geoJSON({ type: "Feature", geometry: M.polygon(iso.g), properties: {} },
        { interactive: false, style: L.extend({ className: "isochrone" }, iso.style) });
      overlays[M.escapeHtml("Isochrone " + iso.minutes + " min")] = layer;
    });
    map.fitBounds(communes.getBounds());
    var legend = M.legend(data.name);
    legend.addTo(map);
    legend.show(data.legend);
    return overlays;
  }

  function showReview(data) {
    var view = -1;   // -1: claims; i: plan i in its antenna colours
    var legend = M.legend("Comparaison");
    function style(f) {
      var p = f.properties;
      if (view < 0) { return L.extend({}, data.styles[p.s]); }
      var own = p.k.filter(function (k) { return k[0] === view; });
      if (own.length === 0) { return L.extend({}, data.styles.uncovered); }
      if (own.length > 1) { return L.extend({}, data.styles.duplicate); }
      return L.extend({}, data.styles.antenna, { fillColor: data.plans[view].antennas[own[0][1]].colour });
    }
    var seatLayer = L.layerGroup().addTo(map);
    function showSeats() {
      seatLayer.clearLayers();
      if (view < 0) { return; }
      data.plans[view].seats.forEach(function (s) {
        var marker = L.circleMarker(s.ll, L.extend({}, data.seat, { fillColor: s.colour, className: "seat", pane: "seats" }));
        marker.bindTooltip(M.el("span", s.antenna), { permanent: true, direction: "right", offset: [8, 0], className: "seat-label" });
        seatLayer.addLayer(marker);
      });
    }
    function legendEntries() {
      if (view < 0) { return data.legend; }
      var plan = data.plans[view];
      return plan.antennas.map(function (a) {
        return { kind: "fill", key: "antenna", antenna: a.name, label: a.name,
                 style: L.extend({}, data.styles.antenna, { fillColor: a.colour }) };
      }).concat(plan.seats.length ? [data.seat_legend] : []).concat([
        { kind: "fill", key: "uncovered", label: data.labels.uncovered, style: data.styles.uncovered },
        { kind: "fill", key: "duplicate", label: data.labels.duplicate, style: data.styles.duplicate }
      ]);
    }
    var communes = L.geoJSON(features(data), {
      style: style,
      onEachFeature: function (f, l) {
        var names = f.properties.k.map(function (k) {
          return data.plans[k[0]].name + " (" + data.plans[k[0]].antennas[k[1]].name + ")";
        });
        l.bindPopup(popup(f.properties, names));
      }
    }).addTo(map);
    map.fitBounds(communes.getBounds());
    legend.addTo(map);
    legend.show(legendEntries());
    var views = { "Revendications": L.layerGroup().addTo(map) };
    data.plans.forEach(function (p, i) { var g = L.layerGroup(); g._view = i; views["Candidature : " + M.escapeHtml(p.name)] = g; });
    views.Revendications._view = -1;
    map.on("baselayerchange", function (e) {
      view = e.layer._view;
      communes.setStyle(style);
      showSeats();
      legend.show(legendEntries());
    });
    return { views: views, overlays: { "Communes": communes } };
  }

  fetch(node.dataset.src, { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) { throw new Error("carte " + r.status); }
    return r.json();
  }).then(function (data) {
    M.ensureHatch(data.hatch);
    var views = {}, overlays;
    if (review) {
      var made = showReview(data);
      views = made.views; overlays = made.overlays;
    } else {
      overlays = showPlan(data);
    }
    // The seat's own label names the antenna: the town's name would sit under it.
    var seatCodes = (data.seats || []).map(function (s) { return s.code; });
    return M.basemap(map, data.dept, { communes: false, hide: seatCodes }).then(function (base) {
      overlays["Noms des communes"] = base.labels;
      overlays["Limite de département"] = base.outline;
      L.control.layers(views, overlays, { collapsed: true }).addTo(map);
      node.dataset.ready = "1";
    });
  }).catch(function () {
    var note = M.el("p", "La carte n'a pas pu être chargée : les tableaux ci-dessous restent complets.", "map-note");
    node.parentNode.insertBefore(note, node.nextSibling);
    node.dataset.ready = "erreur";
  });
})();
