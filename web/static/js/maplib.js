// Shared map code of every page: map creation (French controls, keyboard), the online
// background with its offline notice, the offline base map from our own data, the
// compact geometry codec, the hatch pattern and the legend. Styles, colours and legend
// words come from the server (geo/mapstyle.py), never from this file.
// User text is only ever inserted as text (textContent), never as HTML.
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  // Leaflet's layer control writes layer names as HTML: names from users go through this.
  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  // [[[x0, y0, dx, dy, ...], hole...], polygon...] in 1e-5 degree -> GeoJSON coordinates
  function decode(parts) {
    return parts.map(function (rings) {
      return rings.map(function (ring) {
        var out = [], x = 0, y = 0;
        for (var i = 0; i + 1 < ring.length; i += 2) {
          x += ring[i]; y += ring[i + 1];
          out.push([x / 1e5, y / 1e5]);
        }
        return out;
      });
    });
  }

  function polygon(parts) { return { type: "MultiPolygon", coordinates: decode(parts) }; }

  function ensureHatch(h) {
    if (!h || document.getElementById(h.id)) { return; }
    var svg = document.createElementNS(SVGNS, "svg");
    svg.setAttribute("width", "0"); svg.setAttribute("height", "0");
    svg.setAttribute("aria-hidden", "true");
    svg.style.position = "absolute";
    var defs = document.createElementNS(SVGNS, "defs");
    var pat = document.createElementNS(SVGNS, "pattern");
    pat.setAttribute("id", h.id); pat.setAttribute("patternUnits", "userSpaceOnUse");
    pat.setAttribute("width", h.size); pat.setAttribute("height", h.size);
    pat.setAttribute("patternTransform", "rotate(45)");
    var rect = document.createElementNS(SVGNS, "rect");
    rect.setAttribute("width", h.size); rect.setAttribute("height", h.size);
    rect.setAttribute("fill", h.background);
    var line = document.createElementNS(SVGNS, "line");
    line.setAttribute("x1", 0); line.setAttribute("y1", 0);
    line.setAttribute("x2", 0); line.setAttribute("y2", h.size);
    line.setAttribute("stroke", h.stroke); line.setAttribute("stroke-width", h.width);
    pat.appendChild(rect); pat.appendChild(line); defs.appendChild(pat); svg.appendChild(defs);
    document.body.appendChild(svg);
  }

  // A small SVG drawn with the symbol's own style (the legend never lies).
  function swatch(entry) {
    var s = entry.style, svg = document.createElementNS(SVGNS, "svg");
    svg.setAttribute("width", "18"); svg.setAttribute("height", "18");
    svg.setAttribute("viewBox", "0 0 18 18"); svg.setAttribute("aria-hidden", "true");
    var shape;
    if (entry.kind === "image") {   // a marker: its own image, scaled down
      var img = document.createElement("img");
      img.src = s.src; img.alt = ""; img.width = 11; img.height = 18;
      return img;
    }
    if (entry.kind === "cluster") {
      var outer = document.createElementNS(SVGNS, "circle");
      outer.setAttribute("cx", 9); outer.setAttribute("cy", 9); outer.setAttribute("r", 8.5);
      outer.setAttribute("fill", s.color);
      svg.appendChild(outer);
      shape = document.createElementNS(SVGNS, "circle");
      shape.setAttribute("cx", 9); shape.setAttribute("cy", 9); shape.setAttribute("r", 6);
      shape.setAttribute("fill", s.fillColor);
      svg.appendChild(shape);
      return svg;
    }
    if (entry.kind === "seat") {
      shape = document.createElementNS(SVGNS, "circle");
      shape.setAttribute("cx", 9); shape.setAttribute("cy", 9); shape.setAttribute("r", 6);
    } else {
      shape = document.createElementNS(SVGNS, "rect");
      shape.setAttribute("x", 2); shape.setAttribute("y", 3);
      shape.setAttribute("width", 14); shape.setAttribute("height", 12);
    }
    var outline = entry.kind === "outline" || s.fill === false;
    shape.setAttribute("fill", outline ? "none" : (s.fillColor || s.color));
    if (!outline) { shape.setAttribute("fill-opacity", s.fillOpacity === undefined ? 0.2 : s.fillOpacity); }
    if (s.color) {
      shape.setAttribute("stroke", s.color);
      shape.setAttribute("stroke-width", Math.max(1, s.weight || 1));
      if (s.dashArray) { shape.setAttribute("stroke-dasharray", s.dashArray); }
    }
    svg.appendChild(shape);
    return svg;
  }

  function legendControl(title) {
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      div.setAttribute("role", "region");
      div.setAttribute("aria-label", "Légende");
      // The legend may scroll on small maps: keyboard users must be able to reach it.
      div.tabIndex = 0;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      control._div = div;
      return div;
    };
    control.show = function (entries) {
      var div = control._div;
      while (div.firstChild) { div.removeChild(div.firstChild); }
      if (title) { div.appendChild(el("strong", title)); }
      entries.forEach(function (entry) {
        var row = el("div", null, "legend-row");
        row.dataset.key = entry.key;
        if (entry.antenna !== undefined) { row.dataset.antenna = entry.antenna; }
        row.dataset.colour = entry.style.fillColor || "";
        row.appendChild(swatch(entry));
        row.appendChild(el("span", entry.label, "legend-label"));
        div.appendChild(row);
      });
    };
    return control;
  }

  // A Leaflet map with the online background (if any) and its offline notice.
  function create(node, options) {
    var d = node.dataset;
    var map = L.map(node, L.extend({ keyboard: true, zoomSnap: 0.5 }, options || {}));
    map.createPane("basemap").style.zIndex = 250;   // over tiles, under the layers
    map.createPane("labels").style.zIndex = 640;    // over layers, under popups
    map.getPane("labels").style.pointerEvents = "none";
    map.createPane("seats").style.zIndex = 645;     // seats over the names
    node.setAttribute("tabindex", "0");
    // The notice sits on the map (and in the page's own note, when it has one).
    var ctl = L.control({ position: "topright" });
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "map-offline");
      div.setAttribute("role", "status");
      div.textContent = d.offline || "";
      div.hidden = true;
      return div;
    };
    ctl.addTo(map);
    var notices = [ctl.getContainer()];
    if (d.noteId && document.getElementById(d.noteId)) { notices.push(document.getElementById(d.noteId)); }
    function notice(show) { notices.forEach(function (n) { n.hidden = !show; }); }
    if (d.tiles) {
      var failures = 0;
      var tiles = L.tileLayer(d.tiles, {
        maxZoom: Number(d.maxzoom || 19), attribution: d.attribution || "",
        referrerPolicy: "strict-origin-when-cross-origin"
      });
      tiles.on("tileerror", function () {
        failures += 1;
        notice(true);
        node.classList.add("offline");
      });
      tiles.on("tileload", function () {
        if (failures === 0) { notice(false); node.classList.remove("offline"); }
      });
      tiles.addTo(map);
      map._maillageTiles = tiles;
    }
    return map;
  }

  // Department outline, commune boundaries (optional) and names of the main communes.
  function basemap(map, dept, opts) {
    opts = opts || {};
    var url = "/carte/fond/" + encodeURIComponent(dept) + ".json" + (opts.communes ? "" : "?communes=0");
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("fond " + r.status); }
      return r.json();
    }).then(function (data) {
      var group = L.layerGroup();
      if (opts.communes && data.communes.length) {
        L.geoJSON({ type: "FeatureCollection", features: data.communes.map(function (c) {
          return { type: "Feature", geometry: polygon(c.g), properties: {} };
        }) }, { pane: "basemap", interactive: false, style: data.styles.commune }).addTo(group);
      }
      L.geoJSON({ type: "Feature", geometry: polygon(data.outline), properties: {} },
        { pane: "basemap", interactive: false,
          style: L.extend({}, data.styles.departement, { fill: false }) }).addTo(group);
      var labels = L.layerGroup();
      var hide = opts.hide || [];
      data.labels = data.labels.filter(function (lab) { return hide.indexOf(lab.c) < 0; });
      var markers = data.labels.map(function (lab) {
        var span = el("span", lab.n, "place-label");
        var m = L.marker(lab.ll, { pane: "labels", interactive: false, keyboard: false,
          icon: L.divIcon({ className: "place-label-icon", html: span, iconSize: null }) });
        m._minZoom = lab.z;
        return m;
      });
      // Names by priority (the server sorts them: biggest first); a name that would
      // overlap one already placed waits for a closer zoom.
      function refresh() {
        var z = map.getZoom(), placed = [];
        markers.forEach(function (m, i) {
          var on = z >= m._minZoom;
          if (on) {
            var p = map.latLngToLayerPoint(m.getLatLng());
            var w = data.labels[i].n.length * 7 + 6, h = 16;
            var box = [p.x - w / 2, p.y - h / 2, p.x + w / 2, p.y + h / 2];
            on = !placed.some(function (b) {
              return box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3];
            });
            if (on) { placed.push(box); }
          }
          if (on && !labels.hasLayer(m)) { labels.addLayer(m); }
          if (!on && labels.hasLayer(m)) { labels.removeLayer(m); }
        });
      }
      map.on("zoomend", refresh);
      refresh();
      group.addTo(map);
      labels.addTo(map);
      return { data: data, outline: group, labels: labels };
    });
  }

  window.MaillageMap = {
    create: create, basemap: basemap, decode: decode, polygon: polygon,
    ensureHatch: ensureHatch, legend: legendControl, swatch: swatch, el: el,
    escapeHtml: escapeHtml
  };
})();
