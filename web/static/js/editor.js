// Plan editor: the plan page's map (maplib.js, styles and legend from the server) made
// editable. The browser keeps the plan being drawn and its undo/redo stack; the server
// validates every state and answers with the checks of « plan check » (web/editor.py).
// User text is only ever inserted as text (textContent), never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("editor");
  var node = document.getElementById("map");
  if (!root || !node || !window.MaillageMap) { return; }
  var M = window.MaillageMap, el = M.el, d = root.dataset;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var nf = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });
  var communes = JSON.parse(document.getElementById("communes-data").textContent);
  var byCode = {};
  communes.forEach(function (c) { byCode[c.c] = c; });

  var live = null;          // last answer of the server (state + checks)
  var undo = [], redo = [];  // previous / next states
  var selection = [];        // shift-click selection (codes)
  var locked = {};           // commune code -> antenna name
  var busy = false;
  var layers = {};           // code -> Leaflet layer
  var styles = null, mapData = null;
  var map = M.create(node);
  var beyondGroup = L.layerGroup().addTo(map);
  var seatGroup = L.layerGroup().addTo(map);
  var legend = M.legend("");
  var $ = function (id) { return document.getElementById(id); };

  function say(text, error) {
    var m = $("message");
    m.textContent = text || "";
    m.className = error ? "error" : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return { error: "Réponse illisible du serveur (" + r.status + ")." }; })
        .then(function (data) { if (!r.ok && !data.error) { data.error = "Erreur " + r.status + "."; } return data; });
    });
  }

  function get(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }

  function target() { return $("target").value; }
  function antennaNames() { return live ? live.plan.antennas.map(function (a) { return a.name; }) : []; }

  // --- map ------------------------------------------------------------------------
  function styleOf(code) {
    var entry = live && live.communes[code];
    var aidx = entry ? entry[0] : [];
    var status = aidx.length > 1 ? "duplicate" : (aidx.length ? "antenna" : "uncovered");
    var s = L.extend({}, styles[status]);
    if (status === "antenna") { s.fillColor = live.colours[aidx[0]].colour; }
    if (selection.indexOf(code) >= 0) { s.weight = 4; s.color = "#000"; }
    if (locked[code]) { s.dashArray = "2 3"; s.weight = Math.max(s.weight || 1, 2); }
    return s;
  }

  function restyle() {
    Object.keys(layers).forEach(function (code) { layers[code].setStyle(styleOf(code)); });
    beyondGroup.clearLayers();
    Object.keys(live.communes).forEach(function (code) {
      if (live.communes[code][2] && layers[code]) {
        beyondGroup.addLayer(L.geoJSON(layers[code].feature, {
          interactive: false, style: L.extend({}, styles.beyond, { fill: false }) }));
      }
    });
    seatGroup.clearLayers();
    live.seats.forEach(function (s) {
      var marker = L.circleMarker(s.ll, L.extend({}, mapData.seat, { fillColor: s.colour, className: "seat", pane: "seats" }));
      marker.bindTooltip(el("span", s.antenna), { permanent: true, direction: "right", offset: [8, 0], className: "seat-label" });
      seatGroup.addLayer(marker);
    });
    legend.show(live.legend);
  }

  // Box selection: « Sélection par rectangle », then drag on the map.
  var boxMode = false, boxStart = null, boxRect = null;
  map.boxZoom.disable();
  function setBoxMode(on) {
    boxMode = on;
    if (on) { map.dragging.disable(); } else { map.dragging.enable(); }
    $("box-select").setAttribute("aria-pressed", on ? "true" : "false");
    node.classList.toggle("box-mode", on);
  }
  map.on("mousedown", function (e) {
    if (!boxMode) { return; }
    boxStart = e.latlng;
    boxRect = L.rectangle(L.latLngBounds(e.latlng, e.latlng), { interactive: false, fill: false, color: "#000", weight: 1, dashArray: "4 4" }).addTo(map);
  });
  map.on("mousemove", function (e) {
    if (boxStart) { boxRect.setBounds(L.latLngBounds(boxStart, e.latlng)); }
  });
  map.on("mouseup", function (e) {
    if (!boxStart) { return; }
    var bounds = L.latLngBounds(boxStart, e.latlng);
    map.removeLayer(boxRect); boxStart = null; boxRect = null;
    Object.keys(layers).forEach(function (code) {
      if (bounds.contains(layers[code].getBounds().getCenter()) && selection.indexOf(code) < 0) { selection.push(code); }
    });
    showSelection(); restyle();
  });

  function clicked(code, event) {
    if (boxMode) { return; }
    var mode = document.querySelector('input[name="click-mode"]:checked').value;
    if (mode === "seat") { return edit({ op: "set_seat", antenna: target(), commune: code }); }
    if (mode === "lock") { return toggleLock(code); }
    if (event && event.originalEvent && event.originalEvent.shiftKey) {
      var i = selection.indexOf(code);
      if (i >= 0) { selection.splice(i, 1); } else { selection.push(code); }
      showSelection();
      layers[code].setStyle(styleOf(code));
      return;
    }
    edit({ op: "assign", communes: [code], antenna: target(), epci: $("whole-epci").checked });
  }

  function showSelection() {
    $("selection").textContent = selection.length
      ? "Sélection : " + selection.length + (selection.length > 1 ? " communes" : " commune") + " (" +
        selection.slice(0, 5).map(function (c) { return byCode[c].n; }).join(", ") +
        (selection.length > 5 ? ", et " + (selection.length - 5) + " de plus" : "") + ")"
      : "";
    $("assign-selection").disabled = !selection.length;
    $("clear-selection").disabled = !selection.length;
  }

  // --- edits, undo, redo -------------------------------------------------------------
  function setBusy(on) { busy = on; root.dataset.busy = on ? "1" : ""; }

  function edit(op) {
    if (busy || !live) { return Promise.resolve(); }
    if (op.op !== "add_antenna" && op.antenna === "") {
      say("Choisissez d'abord une antenne.", true);
      return Promise.resolve();
    }
    setBusy(true);
    var before = live.plan;
    return post(d.editUrl, { state: before, edit: op }).then(function (data) {
      setBusy(false);
      if (data.error) { say(data.error, true); return; }
      undo.push(before); redo = [];
      render(data);
      say(describe(op) + " " + summary(data, op));
    }).catch(function () { setBusy(false); say("Le serveur ne répond pas : modification non appliquée.", true); });
  }

  // What changed, in words (the message is announced to screen readers).
  function summary(data, op) {
    var c = data.check, out = "Couverture " + c.communes_covered + "/" + c.communes_total;
    var a = c.antennas.filter(function (x) { return x.name === op.antenna; })[0];
    if (a) {
      out += " ; " + a.name + " : " + a.communes + (a.communes > 1 ? " communes" : " commune") +
        ", file active " + nf.format(a.demand) +
        (a.max_minutes === null ? "" : ", trajet max " + nf.format(a.max_minutes) + " min");
    }
    return out + ".";
  }

  function describe(op) {
    if (op.op === "assign") {
      var n = op.communes.length, who = n === 1 ? byCode[op.communes[0]].n : n + " communes";
      return (op.antenna ? who + " → " + op.antenna : who + " retirée(s) de toute antenne") + (op.epci ? " (toute l'EPCI)" : "") + ".";
    }
    if (op.op === "set_seat") { return "Siège de " + op.antenna + " : " + byCode[op.commune].n + "."; }
    if (op.op === "add_antenna") { return "Antenne « " + op.name + " » ajoutée."; }
    if (op.op === "rename_antenna") { return "Antenne renommée en « " + op.name + " »."; }
    if (op.op === "remove_antenna") { return "Antenne « " + op.antenna + " » supprimée."; }
    return "Modification appliquée.";
  }

  function load(state, stackFrom, stackTo, text) {
    if (busy) { return Promise.resolve(); }
    setBusy(true);
    var current = live ? live.plan : null;
    return post(d.stateUrl, { state: state }).then(function (data) {
      setBusy(false);
      if (data.error) { say(data.error, true); return; }
      if (stackFrom) { stackFrom.pop(); }
      if (stackTo && current) { stackTo.push(current); }
      render(data);
      if (text) { say(text); }
    }).catch(function () { setBusy(false); say("Le serveur ne répond pas.", true); });
  }

  function doUndo() { if (undo.length) { load(undo[undo.length - 1], undo, redo, "Modification annulée."); } }
  function doRedo() { if (redo.length) { load(redo[redo.length - 1], redo, undo, "Modification rétablie."); } }

  // --- panel ---------------------------------------------------------------------------
  function badge(b) { return el("span", b.text, "badge " + b.kind); }

  function commune(item) {
    var text = item.name + " (" + item.code + ")";
    if (item.minutes !== null && item.minutes !== undefined) { text += " : " + nf.format(item.minutes) + " min"; }
    text += ", " + nf.format(item.population) + " hab.";
    return text;
  }

  // A list is never cut silently: « n de plus » and a button that shows them all.
  function list(id, title, data) {
    var box = el("div"); box.id = id;
    if (!data.items.length) { return box; }
    box.appendChild(el("h3", title + " (" + data.items.length + (data.items.length > 1 ? " communes, " : " commune, ") + nf.format(data.population) + " hab.)"));
    var ul = el("ul");
    data.items.forEach(function (item, i) {
      var li = el("li", commune(item));
      if (i >= data.preview) { li.hidden = true; li.className = "extra"; }
      ul.appendChild(li);
    });
    box.appendChild(ul);
    if (data.more > 0) {
      var more = el("button", "… et " + data.more + " de plus : tout afficher", "link more");
      more.type = "button";
      more.addEventListener("click", function () {
        ul.querySelectorAll("li.extra").forEach(function (li) { li.hidden = false; });
        more.remove();
      });
      box.appendChild(more);
    }
    return box;
  }

  function render(data) {
    live = data;
    window.MaillageEditor.live = data;
    var c = data.check;
    $("kpi-covered").textContent = c.communes_covered + "/" + c.communes_total;
    $("kpi-uncovered").textContent = c.uncovered.length;
    $("kpi-duplicates").textContent = c.duplicates.length;
    $("kpi-demand").textContent = nf.format(Math.round(c.demand_total));
    $("kpi-beyond").textContent = c.beyond_threshold.length;
    $("kpi-beyond-label").textContent = "au-delà de " + data.threshold + " min";
    $("verdict").textContent = c.ok ? "Couverture complète et unique." : "Non conforme : couverture incomplète ou communes en double.";
    $("verdict").className = c.ok ? "ok" : "ko";
    var tbody = $("antenna-table").querySelector("tbody");
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    c.antennas.forEach(function (a, i) {
      var tr = el("tr"); tr.dataset.antenna = a.name;
      var name = el("td");
      var sw = el("span", null, "swatch");
      sw.style.background = data.colours[i] ? data.colours[i].colour : "#fff";
      name.appendChild(sw); name.appendChild(document.createTextNode(" " + a.name));
      tr.appendChild(name);
      var n = el("td", a.communes); n.className = "n-communes"; tr.appendChild(n);
      tr.appendChild(el("td", nf.format(a.population)));
      var dem = el("td", nf.format(a.demand)); dem.className = "demand"; tr.appendChild(dem);
      var checks = el("td"); checks.className = "badges";
      (data.badges[a.name] || []).forEach(function (b) { checks.appendChild(badge(b)); });
      tr.appendChild(checks);
      tbody.appendChild(tr);
    });
    var lists = $("lists");
    while (lists.firstChild) { lists.removeChild(lists.firstChild); }
    lists.appendChild(list("list-uncovered", "Communes non couvertes", data.lists.uncovered));
    lists.appendChild(list("list-duplicates", "Communes en double", data.lists.duplicates));
    lists.appendChild(list("list-beyond", "Au-delà de " + data.threshold + " min", data.lists.beyond));
    // antenna selector and seat locks follow the plan (names may change)
    var names = antennaNames(), sel = $("target"), keep = sel.value;
    while (sel.firstChild) { sel.removeChild(sel.firstChild); }
    names.forEach(function (n) { var o = el("option", n); o.value = n; sel.appendChild(o); });
    if (names.indexOf(keep) >= 0) { sel.value = keep; }
    var seats = $("locked-seats"), checked = {};
    seats.querySelectorAll("input:checked").forEach(function (i) { checked[i.value] = true; });
    while (seats.firstChild) { seats.removeChild(seats.firstChild); }
    data.plan.antennas.forEach(function (a) {
      var label = el("label"); label.className = "inline-check";
      var box = el("input"); box.type = "checkbox"; box.value = a.name; box.checked = !!checked[a.name];
      box.disabled = !a.seat;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + a.name + (a.seat ? " (siège " + (byCode[a.seat] ? byCode[a.seat].n : a.seat) + ")" : " (sans siège)")));
      seats.appendChild(label);
    });
    Object.keys(locked).forEach(function (code) { if (names.indexOf(locked[code]) < 0) { delete locked[code]; } });
    showLocks();
    if (!$("k").value) { $("k").value = names.length || 3; }
    $("undo").disabled = !undo.length; $("redo").disabled = !redo.length;
    if (styles) { restyle(); }
    root.dataset.ready = "1";
    root.dataset.revision = String((Number(root.dataset.revision) || 0) + 1);
  }

  // --- keyboard path -----------------------------------------------------------------
  function searchedCode() {
    var v = $("commune-search").value.trim();
    var m = v.match(/\((\d[0-9AB]\d{3})\)\s*$/) || v.match(/^(\d[0-9AB]\d{3})$/);
    if (m && byCode[m[1]]) { return m[1]; }
    var low = v.toLowerCase();
    var hits = communes.filter(function (c) { return c.n.toLowerCase() === low; });
    return hits.length === 1 ? hits[0].c : null;
  }

  function withCommune(fn) {
    var code = searchedCode();
    if (!code) { say("Commune introuvable : choisissez-la dans la liste (nom ou code INSEE).", true); $("commune-search").focus(); return; }
    fn(code);
  }

  function toggleLock(code) {
    var claims = live.communes[code] ? live.communes[code][0] : [];
    if (locked[code]) { delete locked[code]; say(byCode[code].n + " déverrouillée."); }
    else if (claims.length === 1) { locked[code] = live.colours[claims[0]].name; say(byCode[code].n + " verrouillée dans " + locked[code] + "."); }
    else { say("Seule une commune affectée à une seule antenne peut être verrouillée.", true); }
    showLocks();
    if (layers[code]) { layers[code].setStyle(styleOf(code)); }
  }

  function showLocks() {
    var codes = Object.keys(locked);
    $("locked-communes").textContent = codes.length
      ? codes.length + (codes.length > 1 ? " communes" : " commune") + " : " + codes.map(function (c) { return byCode[c].n + " (" + locked[c] + ")"; }).join(", ")
      : "aucune";
  }

  $("commune-search").addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); $("assign-btn").click(); }
  });
  $("assign-btn").addEventListener("click", function () {
    withCommune(function (code) { edit({ op: "assign", communes: [code], antenna: target(), epci: $("whole-epci").checked }); });
  });
  $("unassign-btn").addEventListener("click", function () {
    withCommune(function (code) { edit({ op: "assign", communes: [code], antenna: null, epci: $("whole-epci").checked }); });
  });
  $("seat-btn").addEventListener("click", function () {
    withCommune(function (code) { edit({ op: "set_seat", antenna: target(), commune: code }); });
  });
  $("lock-btn").addEventListener("click", function () { withCommune(toggleLock); });
  $("assign-selection").addEventListener("click", function () {
    var codes = selection.slice(); selection = []; showSelection();
    edit({ op: "assign", communes: codes, antenna: target(), epci: $("whole-epci").checked });
  });
  $("clear-selection").addEventListener("click", function () { selection = []; showSelection(); restyle(); });
  $("box-select").addEventListener("click", function () { setBoxMode(!boxMode); });
  $("undo").addEventListener("click", doUndo);
  $("redo").addEventListener("click", doRedo);
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea") { return; }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") { e.preventDefault(); if (e.shiftKey) { doRedo(); } else { doUndo(); } }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "y") { e.preventDefault(); doRedo(); }
  });
  $("add-antenna").addEventListener("click", function () {
    var name = $("antenna-name").value.trim();
    edit({ op: "add_antenna", name: name }).then(function () { if (antennaNames().indexOf(name) >= 0) { $("target").value = name; } });
  });
  $("rename-antenna").addEventListener("click", function () {
    var name = $("antenna-name").value.trim();
    edit({ op: "rename_antenna", antenna: target(), name: name }).then(function () { if (antennaNames().indexOf(name) >= 0) { $("target").value = name; } });
  });
  $("remove-antenna").addEventListener("click", function () {
    if (window.confirm("Supprimer l'antenne « " + target() + " » ? Ses communes deviennent non couvertes (Annuler rétablit).")) {
      edit({ op: "remove_antenna", antenna: target() });
    }
  });
  $("set-coordinators").addEventListener("click", function () {
    edit({ op: "set_coordinators", antenna: target(), value: $("coordinators").value });
  });

  // --- versions --------------------------------------------------------------------
  function versionRows(versions) {
    var tbody = $("versions").querySelector("tbody");
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    versions.forEach(function (v) {
      var tr = el("tr"); tr.dataset.number = v.number;
      [v.number, v.kind_label, v.author || "—", (v.created_at || "").replace("T", " ").slice(0, 16), v.comment].forEach(function (t) { tr.appendChild(el("td", t)); });
      var td = el("td");
      var cmp = el("button", "Comparer avec le plan affiché", "link compare"); cmp.type = "button";
      cmp.addEventListener("click", function () { compare(v.number); });
      var open = el("button", "Ouvrir", "link open"); open.type = "button";
      open.addEventListener("click", function () { openVersion(v.number); });
      td.appendChild(cmp); td.appendChild(document.createTextNode(" · ")); td.appendChild(open);
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
  }

  function openVersion(n) {
    return get(d.baseUrl + "/versions/" + n + ".json").then(function (data) {
      if (data.error) { say(data.error, true); return; }
      if (live) { undo.push(live.plan); redo = []; }
      return load(data.state, null, null, "Version " + n + " ouverte dans l'éditeur (pas encore enregistrée ; « Annuler » revient en arrière).");
    });
  }

  function compare(n) {
    var box = $("comparison");
    return post(d.baseUrl + "/versions/" + n + "/comparer", { state: live.plan }).then(function (data) {
      while (box.firstChild) { box.removeChild(box.firstChild); }
      if (data.error) { box.appendChild(el("p", data.error, "ko")); return; }
      box.appendChild(el("h3", "Version " + n + " → " + data.after_label));
      var moved = { items: data.moved.map(function (m) {
        return { code: m.code, name: m.name + " : " + (m.before.join(", ") || "aucune") + " → " + (m.after.join(", ") || "aucune"), population: byCode[m.code] ? 0 : 0, minutes: null };
      }), preview: 10, more: Math.max(0, data.moved.length - 10), population: 0 };
      var title = data.moved.length ? "Communes déplacées (" + data.moved.length + ")" : "Aucune commune déplacée";
      box.appendChild(el("p", title));
      if (data.moved.length) {
        var ul = el("ul"); ul.id = "moved";
        moved.items.forEach(function (item, i) {
          var li = el("li", item.name); if (i >= 10) { li.hidden = true; li.className = "extra"; } ul.appendChild(li);
        });
        box.appendChild(ul);
        if (moved.more) {
          var more = el("button", "… et " + moved.more + " de plus : tout afficher", "link more"); more.type = "button";
          more.addEventListener("click", function () { ul.querySelectorAll("li.extra").forEach(function (li) { li.hidden = false; }); more.remove(); });
          box.appendChild(more);
        }
      }
      var t = el("table", null, "table"); t.id = "compare-kpis";
      var head = el("tr"); ["Indicateur", "Avant", "Après"].forEach(function (h) { head.appendChild(el("th", h)); }); t.appendChild(head);
      [["Communes couvertes", "communes_covered"], ["Non couvertes", "uncovered"], ["En double", "duplicates"],
       ["File active", "demand_total"], ["Enclaves", "enclaves"], ["Communes au-delà du seuil", "beyond"],
       ["Population au-delà du seuil", "beyond_population"]].forEach(function (row) {
        var tr = el("tr"); tr.appendChild(el("td", row[0]));
        tr.appendChild(el("td", nf.format(data.before[row[1]]))); tr.appendChild(el("td", nf.format(data.after[row[1]])));
        t.appendChild(tr);
      });
      box.appendChild(t);
      // Per antenna: communes, coordinators needed, longest trip, before → after.
      var names = Object.keys(data.after.antennas);
      Object.keys(data.before.antennas).forEach(function (n) { if (names.indexOf(n) < 0) { names.push(n); } });
      var pa = el("table", null, "table"); pa.id = "compare-antennas";
      var h = el("tr");
      ["Antenne", "Communes", "Coordinateurs nécessaires", "Trajet max"].forEach(function (x) { h.appendChild(el("th", x)); });
      pa.appendChild(h);
      function cell(a, key, unit) {
        if (!a) { return "—"; }
        return a[key] === null || a[key] === undefined ? "—" : nf.format(a[key]) + (unit || "");
      }
      names.forEach(function (n) {
        var b = data.before.antennas[n], a = data.after.antennas[n], tr = el("tr");
        tr.appendChild(el("td", n));
        tr.appendChild(el("td", cell(b, "communes") + " → " + cell(a, "communes")));
        tr.appendChild(el("td", cell(b, "coordinators_needed") + " → " + cell(a, "coordinators_needed")));
        tr.appendChild(el("td", cell(b, "max_minutes", " min") + " → " + cell(a, "max_minutes", " min")));
        pa.appendChild(tr);
      });
      box.appendChild(pa);
    });
  }

  $("save").addEventListener("click", function () {
    if (!live || busy) { return; }
    setBusy(true);
    post(d.saveUrl, { state: live.plan, comment: $("comment").value }).then(function (data) {
      setBusy(false);
      if (data.error) { say(data.error, true); return; }
      versionRows(data.versions);
      $("comment").value = "";
      root.dataset.savedVersion = String(data.version.number);
      say("Version " + data.version.number + " enregistrée.");
    }).catch(function () { setBusy(false); say("Le serveur ne répond pas : rien n'est enregistré.", true); });
  });

  // --- proposals and scenarios (background jobs) -------------------------------------
  var job = null;
  function lockedSeats() {
    var out = [];
    $("locked-seats").querySelectorAll("input:checked").forEach(function (i) { out.push(i.value); });
    return out;
  }

  function runJob(url, body, done) {
    if (job) { return; }
    var progress = $("job-progress");
    progress.className = ""; progress.textContent = "Calcul lancé…";
    post(url, body).then(function (data) {
      if (data.error) { progress.className = "error"; progress.textContent = data.error; return; }
      job = data.job;
      $("cancel-job").hidden = false;
      var poll = function () {
        get(d.baseUrl + "/calculs/" + job).then(function (s) {
          if (s.state === "en cours" || s.state === "annulation demandée") {
            progress.textContent = "Calcul en cours" + (s.progress ? " : " + s.progress : "") + " (" + nf.format(s.elapsed) + " s)…";
            window.setTimeout(poll, 400);
            return;
          }
          job = null; $("cancel-job").hidden = true;
          if (s.state === "erreur") { progress.className = "error"; progress.textContent = s.error; return; }
          if (s.state === "annulé") { progress.textContent = "Calcul annulé : rien n'est enregistré."; return; }
          progress.textContent = "Calcul terminé en " + nf.format(s.seconds) + " s.";
          done(s.result);
        });
      };
      poll();
    });
  }

  $("cancel-job").addEventListener("click", function () {
    if (job) { post(d.baseUrl + "/calculs/" + job + "/annuler", {}); }
  });

  $("propose").addEventListener("click", function () {
    runJob(d.proposeUrl, { state: live.plan, locked_seats: lockedSeats(), locked_communes: locked,
      k: $("k").value, max_minutes: $("max-minutes").value, caseload: $("caseload").checked }, function (result) {
      get(d.versionsUrl).then(function (v) { versionRows(v.versions); });
      openVersion(result.version.number).then(function () {
        say("Proposition enregistrée comme version " + result.version.number + " et ouverte ici : examinez-la, puis « Enregistrer une version » pour l'adopter.");
      });
    });
  });

  $("scenarios").addEventListener("click", function () {
    var seats = lockedSeats();
    runJob(d.scenariosUrl, { state: live.plan, locked_seats: seats }, function (result) {
      var panel = $("scenario-panel");
      while (panel.firstChild) { panel.removeChild(panel.firstChild); }
      var t = el("table", null, "table"); t.id = "scenario-table";
      var head = el("tr");
      ["K", "Temps moyen", "Temps max", "Population au-delà du seuil", "Coordinateurs", "Sites", ""].forEach(function (h) { head.appendChild(el("th", h)); });
      t.appendChild(head);
      result.rows.forEach(function (r) {
        var tr = el("tr"); tr.dataset.k = r.k;
        [r.k, nf.format(r.mean_minutes) + " min", nf.format(r.max_minutes) + " min", nf.format(r.population_beyond),
         r.coordinators, r.sites.join(", ")].forEach(function (v) { tr.appendChild(el("td", v)); });
        var td = el("td"), b = el("button", "Ouvrir en brouillon", "link"); b.type = "button";
        b.addEventListener("click", function () {
          post(d.baseUrl + "/scenarios/" + r.k + "/brouillon", { state: live.plan, locked_seats: seats }).then(function (res) {
            if (res.error) { say(res.error, true); return; }
            window.location.assign(res.url);
          });
        });
        td.appendChild(b); tr.appendChild(td); t.appendChild(tr);
      });
      panel.appendChild(t);
    });
  });

  // --- start -------------------------------------------------------------------------
  window.MaillageEditor = { live: null, edit: edit, undo: doUndo, redo: doRedo, map: map, layers: layers };
  legend.addTo(map);
  get(node.dataset.src).then(function (data) {
    mapData = data; styles = data.styles;
    M.ensureHatch(data.hatch);
    var group = L.geoJSON({ type: "FeatureCollection", features: data.communes.map(function (c) {
      return { type: "Feature", geometry: M.polygon(c.g), properties: { c: c.c, n: c.n } };
    }) }, {
      style: function () { return L.extend({}, styles.uncovered); },
      onEachFeature: function (f, layer) {
        layers[f.properties.c] = layer;
        layer.bindTooltip(el("span", f.properties.n + " (" + f.properties.c + ")"), { sticky: true });
        layer.on("click", function (e) { clicked(f.properties.c, e); });
      }
    }).addTo(map);
    map.fitBounds(group.getBounds());
    M.basemap(map, data.dept, { communes: false }).catch(function () { return null; });
    return post(d.stateUrl, {});
  }).then(function (data) {
    if (data.error) { say(data.error, true); return; }
    render(data);
    get(d.versionsUrl).then(function (v) { versionRows(v.versions); });
    node.dataset.ready = "1";
  }).catch(function () {
    say("L'éditeur n'a pas pu être chargé : rechargez la page.", true);
  });
})();
