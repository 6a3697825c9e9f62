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
  var radiusSelect = document.getElementById("radius_km");
  var openSelect = document.getElementById("ouvert");
  var openDay = document.getElementById("ouvert-le");
  var communeError = document.getElementById("commune-error");
  var communeChoices = document.getElementById("commune-choices");
  var placeBox = document.getElementById("place");
  var placeText = document.getElementById("place-text");
  var placeUndo = document.getElementById("place-undo");
  var helpBox = document.getElementById("help");
  var nf = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });

  // ---- map -------------------------------------------------------------------------
  var map = window.MaillageMap.create(mapNode).setView([46.6, 2.5], 6);
  // Our own base map (département outlines, commune boundaries, names of the main
  // communes) under the markers: the map reads even when the online tiles fail.
  // Loaded per département, when it comes into view (all at once when there are few).
  var basemaps = {};
  fetch("/carte/fond.json").then(function (r) { return r.ok ? r.json() : { departements: [] }; })
    .then(function (data) {
      var legend = window.MaillageMap.legend("Légende");
      legend.addTo(map);
      legend.show(data.legend || []);
      function loadVisible() {
        var view = map.getBounds(), few = data.departements.length <= 5;
        return Promise.all(data.departements.filter(function (d) {
          var b = L.latLngBounds([d.bbox[1], d.bbox[0]], [d.bbox[3], d.bbox[2]]);
          return !basemaps[d.code] && (few || (map.getZoom() >= 7 && view.intersects(b)));
        }).map(function (d) {
          basemaps[d.code] = window.MaillageMap.basemap(map, d.code, { communes: true });
          return basemaps[d.code];
        }));
      }
      map.on("moveend", loadVisible);
      return loadVisible();
    }).then(function () { mapNode.dataset.basemap = "1"; })
    .catch(function () { mapNode.dataset.basemap = "erreur"; });
  var cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
  map.addLayer(cluster);

  // ---- state -----------------------------------------------------------------------
  var state = {
    page: 1, total: 0, capped: false, loaded: 0, request: 0,
    area: null,          // {lat, lon, radius} when the user moved the map
    pendingCategory: "", // category asked for in the URL, set once the list is loaded
    understand: true     // read a commune named in the query as the place
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

  // The card's link carries the search, so that « Retour à la recherche » restores it.
  function structureUrl(id) {
    var search = urlState().toString();
    return "/structure/" + encodeURIComponent(id) + (search ? "?depuis=" + encodeURIComponent(search) : "");
  }

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
    if (p.open_now === true) { out.push(["Ouvert maintenant", "note open"]); }
    else if (p.open_now === false) { out.push(["Fermé maintenant", "note shut"]); }
    var today = new Date().toISOString().slice(0, 10);
    if (p.closed_from && p.closed_from <= today && (!p.closed_until || today <= p.closed_until)) {
      out.push(["Fermé temporairement" + (p.closed_until ? " jusqu'au " + frDate(p.closed_until) : ""),
                "note closed"]);
    }
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
  function openParam() {
    if (openSelect.value === "maintenant") { return "maintenant"; }
    if (openSelect.value === "jour" && openDay.value) { return openDay.value; }
    return "";
  }

  function params(page) {
    var out = new URLSearchParams();
    var q = form.elements.q.value.trim();
    if (q) { out.set("q", q); }
    if (sectorSelect.value) { out.set("sector", sectorSelect.value); }
    if (categorySelect.value || state.pendingCategory) {
      out.set("category", categorySelect.value || state.pendingCategory);
    }
    if (form.elements["public"].value) { out.set("public", form.elements["public"].value); }
    var radius = radiusSelect.value !== "0" ? radiusSelect.value : "";
    if (state.area) {
      out.set("lat", state.area.lat.toFixed(5));
      out.set("lon", state.area.lon.toFixed(5));
      out.set("radius_km", String(state.area.radius));
    } else if (communeCode.value) {
      out.set("commune", communeCode.value);
      if (radius) { out.set("radius_km", radius); }
    } else if (radius) {
      out.set("radius_km", radius);  // used around a commune named in the query
    }
    var open = openParam();
    if (open === "maintenant") { out.set("open_now", "true"); } else if (open) { out.set("open_on", open); }
    if (!state.understand) { out.set("understand", "false"); }
    var dept = lastDept();
    if (dept && !communeCode.value && !state.area) { out.set("prefer_dept", dept); }
    // Around a place with no words, the nearest first; otherwise the best matches.
    var located = out.has("commune") || out.has("lat");
    out.set("sort", located && !out.has("q") ? "distance" : "relevance");
    out.set("page", String(page));
    out.set("per_page", String(PER_PAGE));
    return out;
  }

  function lastDept() {
    try { return window.localStorage.getItem("maillage.departement") || ""; } catch (e) { return ""; }
  }
  function rememberDept(code) {
    var dept = code.indexOf("97") === 0 ? code.slice(0, 3) : code.slice(0, 2);
    try { window.localStorage.setItem("maillage.departement", dept); } catch (e) { /* private mode */ }
  }

  function urlState() {
    // French names, as in /recherche?q=…&commune=…&rayon=…&secteur=…
    var out = new URLSearchParams();
    var q = form.elements.q.value.trim();
    if (q) { out.set("q", q); }
    if (communeCode.value) { out.set("commune", communeCode.value); }
    if (radiusSelect.value) { out.set("rayon", radiusSelect.value); }
    if (sectorSelect.value) { out.set("secteur", sectorSelect.value); }
    var category = categorySelect.value || state.pendingCategory;
    if (category) { out.set("categorie", category); }
    if (form.elements["public"].value) { out.set("public", form.elements["public"].value); }
    if (openParam()) { out.set("ouvert", openParam()); }
    if (!state.understand) { out.set("lieu", "0"); }
    return out;
  }

  function syncUrl() {
    // The address bar keeps the search, so that it can be shared or bookmarked.
    var query = urlState().toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
  }

  function showPlace(place) {
    if (!place || place.source !== "query" || state.area) { placeBox.hidden = true; return; }
    placeText.textContent = "Commune lue dans votre recherche : " + place.label + ".";
    placeUndo.textContent = "Annuler : chercher « " + place.words + " » comme un mot";
    placeBox.hidden = false;
  }

  function applySuggestion(change) {
    Object.keys(change).forEach(function (key) {
      var value = change[key];
      if (key === "radius_km") {
        var wanted = String(value);
        if (!Array.prototype.some.call(radiusSelect.options, function (o) { return o.value === wanted; })) {
          radiusSelect.appendChild(el("option", wanted + " km")).value = wanted;
        }
        radiusSelect.value = wanted;
      } else if (key === "sector") { sectorSelect.value = ""; fillCategories(); }
      else if (key === "category") { categorySelect.value = ""; state.pendingCategory = ""; }
      else if (key === "public") { form.elements["public"].value = ""; }
      else if (key === "ouvert") { openSelect.value = ""; openDay.hidden = true; }
      else if (key === "understand") { state.understand = false; }
    });
    run({});
  }

  function showHelp(help) {
    helpBox.replaceChildren();
    if (!help) { helpBox.hidden = true; return; }
    helpBox.appendChild(el("p", help.reason, "help-reason"));
    if (help.did_you_mean) {
      var line = el("p", "Vouliez-vous dire ");
      var fix = el("button", "« " + help.did_you_mean + " »", "link-button");
      fix.type = "button";
      fix.addEventListener("click", function () {
        form.elements.q.value = help.did_you_mean;
        run({});
      });
      line.appendChild(fix);
      line.appendChild(document.createTextNode(" ?"));
      helpBox.appendChild(line);
    }
    if (help.suggestions && help.suggestions.length) {
      var list = el("ul", null, "help-suggestions");
      help.suggestions.forEach(function (sug) {
        var item = el("li");
        var button = el("button", sug.label, "button secondary");
        button.type = "button";
        button.addEventListener("click", function () { applySuggestion(sug.params || {}); });
        item.appendChild(button);
        list.appendChild(item);
      });
      helpBox.appendChild(list);
    }
    if (help.closest && help.closest.length) {
      helpBox.appendChild(el("p", "Les fiches les plus proches de votre recherche :"));
      var near = el("ul", null, "help-closest");
      help.closest.forEach(function (c) {
        var item = el("li");
        var link = el("a", c.name + (c.commune_name ? " (" + c.commune_name + ")" : ""));
        link.href = structureUrl(c.id);
        item.appendChild(link);
        near.appendChild(item);
      });
      helpBox.appendChild(near);
    }
    helpBox.hidden = false;
  }

  function updateStatus(data) {
    var place = data && data.place;
    var where = state.area ? " dans la zone affichée" :
      (place ? " " + place.around : "");
    if (state.total === 0) {
      status.textContent = "Aucun résultat" + where + ".";
    } else {
      // Past the ranking cap the server says « plus de 1 000 »: narrow the search.
      status.textContent = (state.capped ? "Plus de " : "") + nf.format(state.total) +
        " résultat" + (state.total > 1 ? "s" : "") + where +
        (state.loaded < state.total ? " — " + nf.format(state.loaded) + " affichés" : "") +
        (state.capped ? " : précisez la recherche (un lieu, une catégorie)" : "") + ".";
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
    state.capped = !!data.total_capped;
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
    if (!opts.append) {
      state.last = data;
      showPlace(data.place);
      showHelp(data.help);
      // The commune typed last (here, in the query) orders searches without a place.
      if (data.place && data.place.code) { rememberDept(data.place.code); }
    }
    updateStatus(state.last);
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
    state.understand = true;
    var typed = communeInput.value.trim();
    if (typed && !communeCode.value) {
      // A commune typed without picking it in the list: resolve it, never ignore it.
      resolveCommune(typed).then(function (ok) { if (ok) { state.area = null; run({}); } });
      return;
    }
    if (communeCode.value) { state.area = null; }
    run({ keepView: !!state.area });
  });
  [form.elements["public"], radiusSelect, categorySelect].forEach(function (node) {
    node.addEventListener("change", function () {
      if (node === categorySelect) { state.pendingCategory = ""; }
      run({ keepView: !!state.area });
    });
  });
  openSelect.addEventListener("change", function () {
    openDay.hidden = openSelect.value !== "jour";
    if (openSelect.value === "jour" && !openDay.value) {
      openDay.value = new Date().toISOString().slice(0, 10);
    }
    run({ keepView: !!state.area });
  });
  openDay.addEventListener("change", function () { run({ keepView: !!state.area }); });
  placeUndo.addEventListener("click", function () { state.understand = false; run({}); });

  function setCommune(code, label) {
    communeCode.value = code;
    communeInput.value = label;
    known[label] = code;
    communeError.hidden = true;
    communeInput.removeAttribute("aria-invalid");
    communeChoices.hidden = true;
    communeChoices.replaceChildren();
    rememberDept(code);
  }

  function resolveCommune(typed) {
    status.textContent = "Recherche de la commune…";
    return fetch(API + "/communes/resolve?q=" + encodeURIComponent(typed), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        communeChoices.replaceChildren();
        if (!res.ok) {
          communeError.textContent = res.body.erreur || "Commune introuvable.";
          communeError.hidden = false;
          communeInput.setAttribute("aria-invalid", "true");
          status.textContent = "Précisez la commune.";
          return false;
        }
        var c = res.body.commune;
        if (c) { setCommune(c.code, c.nom + " (" + c.code + ")"); return true; }
        communeChoices.appendChild(el("p", "Plusieurs communes correspondent à « " + typed + " » : choisissez."));
        var list = el("ul");
        res.body.choices.forEach(function (choice) {
          var item = el("li");
          var button = el("button", choice.nom + " (" + choice.code + ")", "link-button");
          button.type = "button";
          button.addEventListener("click", function () {
            setCommune(choice.code, choice.nom + " (" + choice.code + ")");
            state.area = null;
            run({});
          });
          item.appendChild(button);
          list.appendChild(item);
        });
        communeChoices.appendChild(list);
        communeChoices.hidden = false;
        status.textContent = "Précisez la commune.";
        return false;
      })
      .catch(function () { status.textContent = "Le service ne répond pas. Réessayez."; return false; });
  }
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
    communeError.hidden = true;
    if (communeCode.value) { setCommune(communeCode.value, value); state.area = null; run({}); return; }
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

  // ---- start: the server filled the form from the address bar ------------------------
  var initial = new URLSearchParams(location.search);
  if (communeCode.value) { known[communeInput.value] = communeCode.value; rememberDept(communeCode.value); }
  state.pendingCategory = form.dataset.category || "";
  state.understand = form.dataset.lieu !== "0";
  Array.prototype.forEach.call(communeChoices.querySelectorAll("a[data-code]"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      setCommune(link.dataset.code, link.dataset.label);
      state.area = null;
      run({});
    });
  });
  // On a phone the filters start folded (unless some are set), so that the map shows
  // without scrolling far.
  var filtered = ["secteur", "categorie", "public", "ouvert"].some(function (n) { return initial.get(n); });
  if (window.matchMedia("(max-width: 760px)").matches && !filtered) {
    document.getElementById("filters").open = false;
  }
  var categoriesLoaded = fetch(API + "/categories", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : []; })
    .then(function (rows) { categories = rows.filter(function (c) { return c.structures !== 0; }); fillCategories(); })
    .catch(function () { /* the search still works without the category list */ });
  // A commune that did not resolve waits for the user (the message says why).
  var unresolved = communeInput.value.trim() && !communeCode.value;
  if (unresolved) {
    status.textContent = "Précisez la commune.";
  } else if (state.pendingCategory) {
    categoriesLoaded.then(function () { run({}); });
  } else { run({}); }
})();
