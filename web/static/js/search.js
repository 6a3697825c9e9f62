// Resource search: markers come from the JSON API (never inlined in the page) and the
// result list stays in step with the map. User data is inserted with textContent only.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var results = document.getElementById("results");
  var status = document.getElementById("status");
  var map = L.map("map").setView([45.4, 3.5], 8);
  // Tiles are a background only: markers show even when the tile server is unreachable.
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 18, attribution: "© contributeurs OpenStreetMap"
  }).addTo(map);
  var cluster = L.markerClusterGroup();
  map.addLayer(cluster);
  var markers = {};

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  function popup(p) {
    var box = el("div");
    var title = el("strong", p.name);
    box.appendChild(title);
    box.appendChild(el("div", p.category_label || ""));
    box.appendChild(el("div", p.address || ""));
    if (p.phone) { box.appendChild(el("div", "Tél. " + p.phone)); }
    var link = el("a", "Voir la fiche");
    link.href = "/structure/" + encodeURIComponent(p.id);
    box.appendChild(link);
    return box;
  }

  function params() {
    var data = new FormData(form);
    var out = new URLSearchParams();
    data.forEach(function (value, key) { if (value) { out.append(key, value); } });
    if (!out.get("commune")) { out.delete("radius_km"); }
    if (out.get("commune") && !out.get("q")) { out.set("sort", "distance"); }
    out.set("per_page", "100");
    return out;
  }

  function render(data) {
    cluster.clearLayers();
    markers = {};
    results.replaceChildren();
    var bounds = [];
    data.features.forEach(function (f) {
      var p = f.properties;
      var latlng = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var marker = L.marker(latlng, { title: p.name });
      marker.bindPopup(popup(p));
      cluster.addLayer(marker);
      markers[p.id] = marker;
      bounds.push(latlng);
      var item = el("li");
      item.dataset.id = p.id;
      item.appendChild(el("strong", p.name));
      var meta = [p.category_label, p.commune_name].filter(Boolean).join(" — ");
      if (p.distance_km !== null) { meta += " — " + String(p.distance_km).replace(".", ",") + " km"; }
      item.appendChild(el("span", meta, "meta"));
      if (p.approximate_location) { item.appendChild(el("span", "localisation approximative", "meta")); }
      if (p.stale) { item.appendChild(el("span", "à vérifier (plus de 12 mois)", "meta")); }
      item.addEventListener("click", function () {
        cluster.zoomToShowLayer(marker, function () { marker.openPopup(); });
        Array.prototype.forEach.call(results.children, function (li) { li.classList.remove("active"); });
        item.classList.add("active");
      });
      results.appendChild(item);
    });
    status.textContent = data.total + " résultat(s)" + (data.total > data.features.length ? " (100 premiers affichés)" : "");
    if (bounds.length) { map.fitBounds(bounds, { maxZoom: 13, padding: [20, 20] }); }
  }

  function run() {
    status.textContent = "Recherche…";
    fetch("/api/v1/search?" + params().toString())
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { status.textContent = res.body.erreur || "Erreur"; return; }
        render(res.body);
      })
      .catch(function () { status.textContent = "Le service de recherche ne répond pas."; });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });

  // Commune autocomplete: the visible text resolves to an INSEE code.
  var communeInput = document.getElementById("commune-input");
  var communeCode = document.getElementById("commune");
  var list = document.getElementById("commune-list");
  var known = {};
  communeInput.addEventListener("input", function () {
    var value = communeInput.value.trim();
    communeCode.value = known[value] || "";
    if (value.length < 2 || known[value]) { return; }
    fetch("/api/v1/communes?q=" + encodeURIComponent(value))
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (rows) {
        list.replaceChildren();
        rows.forEach(function (c) {
          var label = c.nom + " (" + c.code + ")";
          known[label] = c.code;
          var option = document.createElement("option");
          option.value = label;
          list.appendChild(option);
        });
      });
  });

  fetch("/api/v1/categories").then(function (r) { return r.json(); }).then(function (rows) {
    var select = document.getElementById("category");
    rows.filter(function (c) { return c.structures > 0; }).forEach(function (c) {
      var option = el("option", c.label);
      option.value = c.code;
      select.appendChild(option);
    });
  });
  run();
})();
