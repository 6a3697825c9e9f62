// Resource search: markers come from the JSON API (never inlined in the page) and the
// result list stays in step with the map. User data is only ever inserted as text
// (textContent, DOM nodes): never innerHTML.
(function () {
  "use strict";

  var API = "/api/v1";
  var PER_PAGE = 50;
  var form = document.getElementById("search-form");
  var results = document.getElementById("results");
  var status = document.getElementById("status");
  var more = document.getElementById("more");
  var follow = document.getElementById("follow-map");
  var mapNode = document.getElementById("map");
  var communeInput = document.getElementById("commune-input");
  var communeCode = document.getElementById("commune");
  var communeList = document.getElementById("commune-list");
  var sectorSelect = document.getElementById("sector");
  var categorySelect = document.getElementById("category");
  var nf = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });

  // ---- map -------------------------------------------------------------------------
  var map = window.MaillageMap.create(mapNode).setView([46.6, 2.5], 6);
  // Our own base map (département outlines, commune boundaries, names of the main
  // communes) under the markers: the map reads even when the online tiles fail.
  fetch("/carte/fond.json").then(function (r) { return r.ok ? r.json() : { departements: [] }; })
    .then(function (data) {
      var legend = window.MaillageMap.legend("Légende");
      legend.addTo(map);
      legend.show(data.legend || []);
      return Promise.all(data.departements.map(function (d) {
        return window.MaillageMap.basemap(map, d.code, { communes: true });
      }));
    }).then(function () { mapNode.dataset.basemap = "1"; })
    .catch(function () { mapNode.dataset.basemap = "erreur"; });
  var cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
  map.addLayer(cluster);

  // ---- state -----------------------------------------------------------------------
  var state = {
    page: 1, total: 0, loaded: 0, request: 0,
    area: null,          // {lat, lon, radius} when the user moved the map
    pendingCategory: ""  // category asked for in the URL, set once the list is loaded
  };
  var markers = {};  // structure id -> L.Marker
  var items = {};    // structure id -> <li>
  var props = {};    // structure id -> feature properties
  // Only moves made by the user re-search (not fitBounds, nor zooming to a result).
  var userMove = false;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  function structureUrl(id) { return "/structure/" + encodeURIComponent(id); }

  function frDate(iso) {
    var d = new Date(iso + "T00:00:00");
    return isNaN(d.getTime()) ? String(iso)
      : d.toLocaleDateString("fr-FR", { day: "numeric", month: "long", year: "numeric" });
  }

  function metaLine(p) {
    var parts = [p.category_label, p.commune_name].filter(Boolean);
    if (typeof p.distance_km === "number") { parts.push(nf.format(p.distance_km) + " km"); }
    return parts.join(" · ");
  }

  function notes(p) {
    var out = [];
    if (p.approximate_location) { out.push(["Localisation approximative", "note approx"]); }
    if (p.stale) { out.push(["À vérifier : fiche non vérifiée depuis plus d'un an", "note stale"]); }
    return out;
  }

  // ---- popup and list item (DOM nodes, text only) ------------------------------------
  function popup(p) {
    var box = el("div", null, "popup");
    box.appendChild(el("strong", p.name));
    if (p.category_label) { box.appendChild(el("div", p.category_label)); }
    var place = p.address || "";
    // FINESS addresses usually end with the commune already: do not repeat it.
    if (p.commune_name && place.toLowerCase().indexOf(p.commune_name.toLowerCase()) < 0) {
      place = [place, p.commune_name].filter(Boolean).join(", ");
    }
    if (place) { box.appendChild(el("div", place)); }
    if (p.phone) {
      var tel = el("a", p.phone);
      tel.href = "tel:" + String(p.phone).replace(/[^0-9+]/g, "");
      var line = el("div", "Tél. ");
      line.appendChild(tel);
      box.appendChild(line);
    }
    notes(p).forEach(function (n) { box.appendChild(el("div", n[0], n[1])); });
    var link = el("a", "Voir la fiche");
    link.href = structureUrl(p.id);
    box.appendChild(link);
    return box;
  }

  function listItem(p) {
    var li = el("li");
    li.dataset.id = String(p.id);
    var show = el("button", null, "result-show");
    show.type = "button";
    show.appendChild(el("span", p.name, "result-name"));
    show.appendChild(el("span", metaLine(p), "meta"));
    if (p.address) { show.appendChild(el("span", p.address, "meta")); }
    li.appendChild(show);
    notes(p).forEach(function (n) { li.appendChild(el("span", n[0], n[1])); });
    var foot = el("div", null, "result-foot");
    if (p.phone) { foot.appendChild(el("span", "Tél. " + p.phone)); }
    if (p.last_verified) { foot.appendChild(el("span", "Vérifiée le " + frDate(p.last_verified))); }
    var link = el("a", "Fiche détaillée");
    link.href = structureUrl(p.id);
    foot.appendChild(link);
    li.appendChild(foot);
    li.addEventListener("click", function (event) {
      if (event.target.closest("a")) { return; }  // the link opens the page itself
      showOnMap(p.id);
    });
    return li;
  }

  function highlight(id, scroll) {
    Object.keys(items).forEach(function (key) { items[key].classList.remove("active"); });
    var li = items[id];
    if (!li) { return; }
    li.classList.add("active");
    if (scroll) { li.scrollIntoView({ block: "nearest" }); }
  }

  function showOnMap(id) {
    highlight(id, false);
    var marker = markers[id];
    if (!marker) { status.textContent = "Cette ressource n'a pas de position connue."; return; }
    userMove = false;
    // A free popup at the marker's place: markercluster's zoomToShowLayer may never call
    // back while a fitBounds animation runs, which left the click without effect.
    var latlng = marker.getLatLng();
    map.setView(latlng, Math.max(map.getZoom(), 15), { animate: false });
    L.popup().setLatLng(latlng).setContent(popup(props[id])).openOn(map);
  }

  // ---- search ------------------------------------------------------------------------
  function params(page) {
    var out = new URLSearchParams();
    ["q", "sector", "category", "public"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) { out.set(name, value); }
    });
    if (state.area) {
      out.set("lat", state.area.lat.toFixed(5));
      out.set("lon", state.area.lon.toFixed(5));
      out.set("radius_km", String(state.area.radius));
    } else if (communeCode.value) {
      out.set("commune", communeCode.value);
      if (form.elements.radius_km.value) { out.set("radius_km", form.elements.radius_km.value); }
    }
    // Around a place with no words, the nearest first; otherwise the best matches.
    var located = out.has("commune") || out.has("lat");
    out.set("sort", located && !out.has("q") ? "distance" : "relevance");
    out.set("page", String(page));
    out.set("per_page", String(PER_PAGE));
    return out;
  }

  function syncUrl() {
    // The address bar keeps the search, so that it can be shared or bookmarked.
    var out = new URLSearchParams();
    ["q", "sector", "category", "public", "radius_km"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) { out.set(name, value); }
    });
    if (communeCode.value) {
      out.set("commune", communeCode.value);
      out.set("commune_label", communeInput.value);
    }
    var query = out.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
  }

  function updateStatus() {
    var where = state.area ? " dans la zone affichée" :
      (communeCode.value ? " autour de " + communeInput.value : "");
    if (state.total === 0) {
      status.textContent = "Aucun résultat" + where + ". Élargissez le rayon ou retirez un filtre.";
    } else {
      status.textContent = nf.format(state.total) + " résultat" + (state.total > 1 ? "s" : "") +
        where + (state.loaded < state.total ? " — " + nf.format(state.loaded) + " affichés" : "") + ".";
    }
    more.hidden = state.loaded >= state.total;
  }

  function render(data, opts) {
    if (!opts.append) {
      map.closePopup();
      cluster.clearLayers();
      markers = {};
      items = {};
      results.replaceChildren();
      state.loaded = 0;
    }
    state.page = data.page || 1;
    state.total = data.total || 0;
    var added = [];
    var bounds = L.latLngBounds([]);
    (data.features || []).forEach(function (feature) {
      var p = feature.properties || {};
      if (items[p.id]) { return; }
      var g = feature.geometry;
      if (g && g.type === "Point" && g.coordinates) {
        var latlng = L.latLng(g.coordinates[1], g.coordinates[0]);
        var marker = L.marker(latlng, { title: p.name || "", alt: p.name || "" });
        marker.bindPopup(function () { return popup(p); });
        marker.on("click", function () { highlight(p.id, true); });
        markers[p.id] = marker;
        props[p.id] = p;
        added.push(marker);
        bounds.extend(latlng);
      }
      items[p.id] = listItem(p);
      results.appendChild(items[p.id]);
      state.loaded += 1;
    });
    cluster.addLayers(added);
    updateStatus();
    if (!opts.append && !opts.keepView && bounds.isValid()) {
      userMove = false;
      map.fitBounds(bounds, { maxZoom: 13, padding: [24, 24] });
    }
  }

  function run(opts) {
    opts = opts || {};
    var page = opts.append ? state.page + 1 : 1;
    var id = ++state.request;
    status.textContent = "Recherche en cours…";
    if (!opts.append) { syncUrl(); }
    fetch(API + "/search?" + params(page).toString(), {
      headers: { Accept: "application/geo+json, application/json" }, credentials: "same-origin"
    })
      .then(function (r) {
        return r.json().catch(function () { return {}; })
          .then(function (body) { return { ok: r.ok, body: body }; });
      })
      .then(function (res) {
        if (id !== state.request) { return; }  // a newer search superseded this one
        if (!res.ok) { status.textContent = res.body.erreur || "La recherche a échoué."; return; }
        render(res.body, opts);
      })
      .catch(function () {
        if (id === state.request) { status.textContent = "Le service de recherche ne répond pas. Réessayez."; }
      });
  }

  function viewArea() {
    var center = map.getCenter();
    var radius = center.distanceTo(map.getBounds().getNorthEast()) / 1000;
    return { lat: center.lat, lon: center.lng,
             radius: Math.round(Math.min(500, Math.max(1, radius)) * 10) / 10 };
  }

  var moveTimer = null;
  function byUser() { userMove = true; }
  map.on("dragstart", byUser);
  mapNode.addEventListener("wheel", byUser, { passive: true });
  mapNode.addEventListener("dblclick", byUser);
  mapNode.addEventListener("touchstart", function (e) { if (e.touches.length > 1) { byUser(); } },
                           { passive: true });
  mapNode.addEventListener("keydown", function (e) {
    if (/^(Arrow|\+|-|=)/.test(e.key)) { byUser(); }
  });
  mapNode.addEventListener("click", function (e) {
    if (e.target.closest(".leaflet-control-zoom")) { byUser(); }
  }, true);
  map.on("moveend", function () {
    if (!userMove || !follow.checked) { return; }
    userMove = false;
    clearTimeout(moveTimer);
    moveTimer = setTimeout(function () {
      state.area = viewArea();
      run({ keepView: true });
    }, 350);
  });
  follow.addEventListener("change", function () {
    if (!follow.checked && state.area) { state.area = null; run({}); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (communeCode.value) { state.area = null; }
    run({ keepView: !!state.area });
  });
  ["public", "radius_km", "category"].forEach(function (name) {
    form.elements[name].addEventListener("change", function () { run({ keepView: !!state.area }); });
  });
  more.addEventListener("click", function () { run({ append: true, keepView: true }); });

  // ---- categories, filtered by sector -------------------------------------------------
  var categories = [];
  function fillCategories() {
    var sector = sectorSelect.value;
    var current = categorySelect.value || state.pendingCategory;
    while (categorySelect.options.length > 1) { categorySelect.remove(1); }
    categories.forEach(function (c) {
      if (sector && c.sector !== sector) { return; }
      var option = el("option", c.label + (c.structures ? " (" + nf.format(c.structures) + ")" : ""));
      option.value = c.code;
      categorySelect.appendChild(option);
    });
    categorySelect.value = current;
    if (categorySelect.value !== current) { categorySelect.value = ""; }
    state.pendingCategory = "";
  }
  sectorSelect.addEventListener("change", function () {
    fillCategories();
    run({ keepView: !!state.area });
  });

  // ---- commune autocomplete: the visible label resolves to an INSEE code ----------------
  var known = {};
  var typing = null;
  communeInput.addEventListener("input", function () {
    var value = communeInput.value.trim();
    var hadCode = communeCode.value;
    communeCode.value = known[value] || "";
    if (communeCode.value) { state.area = null; run({}); return; }
    if (!value && hadCode) { run({ keepView: true }); return; }
    if (value.length < 2) { return; }
    clearTimeout(typing);
    typing = setTimeout(function () {
      fetch(API + "/communes?q=" + encodeURIComponent(value), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (rows) {
          communeList.replaceChildren();
          rows.forEach(function (c) {
            var label = c.nom + " (" + c.code + ")";
            known[label] = c.code;
            var option = document.createElement("option");
            option.value = label;
            communeList.appendChild(option);
          });
        })
        .catch(function () { /* autocomplete is a convenience only */ });
    }, 200);
  });

  // ---- start: restore the search from the address bar ----------------------------------
  var initial = new URLSearchParams(location.search);
  ["q", "sector", "public", "radius_km"].forEach(function (name) {
    if (initial.get(name) !== null) { form.elements[name].value = initial.get(name); }
  });
  if (initial.get("commune")) {
    communeCode.value = initial.get("commune");
    communeInput.value = initial.get("commune_label") || initial.get("commune");
    known[communeInput.value] = communeCode.value;
  }
  state.pendingCategory = initial.get("category") || "";
  // On a phone the filters start folded (unless some are set), so that the map shows
  // without scrolling far.
  var filtered = ["sector", "category", "public"].some(function (n) { return initial.get(n); });
  if (window.matchMedia("(max-width: 760px)").matches && !filtered) {
    document.getElementById("filters").open = false;
  }
  var categoriesLoaded = fetch(API + "/categories", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : []; })
    .then(function (rows) { categories = rows.filter(function (c) { return c.structures !== 0; }); fillCategories(); })
    .catch(function () { /* the search still works without the category list */ });
  if (state.pendingCategory) { categoriesLoaded.then(function () { run({}); }); } else { run({}); }
})();
