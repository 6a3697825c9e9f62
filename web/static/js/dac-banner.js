// « Votre DAC : … » on the resource search page: when a commune is chosen, the retained
// DAC antenna that covers it (GET /api/v1/communes/{code}/dac) and its contact card.
// Text only (textContent): never innerHTML.
(function () {
  "use strict";

  var input = document.getElementById("commune-input");
  var code = document.getElementById("commune");
  var anchor = document.getElementById("status");
  if (!input || !code || !anchor) { return; }
  var banner = document.createElement("section");
  banner.id = "dac-banner";
  banner.className = "card dac-banner";
  banner.hidden = true;
  banner.setAttribute("aria-live", "polite");
  anchor.parentNode.insertBefore(banner, anchor);
  var shown = null;

  // « antenne de » + a place name, with French contractions and elisions.
  function ofPlace(name) {
    if (/^Le /.test(name)) { return "du " + name.slice(3); }
    if (/^Les /.test(name)) { return "des " + name.slice(4); }
    if (/^La /.test(name)) { return "de la " + name.slice(3); }
    if (/^L['’]/.test(name)) { return "de l’" + name.slice(2); }
    if (/^[AEIOUYÂÉÈÊÎÔH]/i.test(name)) { return "d’" + name; }
    return "de " + name;
  }

  function line(tag, text, className) {
    var node = document.createElement(tag);
    node.textContent = text;
    if (className) { node.className = className; }
    return node;
  }

  function clear() {
    banner.hidden = true;
    banner.replaceChildren();
  }

  function render(d) {
    var place = d.antenne.siege && d.antenne.siege.nom ? d.antenne.siege.nom : d.antenne.nom;
    var text = "Votre DAC : " + d.dac.nom + (d.dac.porteur ? " (" + d.dac.porteur + ")" : "") +
      " — antenne " + ofPlace(place);
    if (d.temps_trajet) { text += " (" + Math.round(d.temps_trajet.minutes) + " min)"; }
    banner.replaceChildren(line("p", text, "dac-title"));
    if (d.temps_trajet) {
      banner.appendChild(line("p", "Temps de trajet depuis le siège de l’antenne : " +
        d.temps_trajet.mode + ".", "hint"));
    }
    var c = d.contact;
    if (c) {
      banner.appendChild(line("p", c.name, "dac-contact-name"));
      var where = [c.address, [c.postal_code, c.commune_name].filter(Boolean).join(" ")]
        .filter(Boolean).join(", ");
      if (where) { banner.appendChild(line("p", where)); }
      if (c.phone) { banner.appendChild(line("p", "Téléphone : " + c.phone)); }
      if (c.email) { banner.appendChild(line("p", "Courriel : " + c.email)); }
    }
    banner.hidden = false;
  }

  function update() {
    var value = code.value;
    if (value === shown) { return; }
    shown = value;
    if (!/^[0-9AB]{5}$/.test(value)) { clear(); return; }
    fetch("/api/v1/communes/" + encodeURIComponent(value) + "/dac", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (code.value !== value) { return; }
        if (d && d.dac && d.antenne) { render(d); } else { clear(); }
      })
      .catch(clear);
  }

  // search.js resolves the typed label to a code in its own "input" listener, which
  // runs before this one: read the code on the next tick.
  ["input", "change"].forEach(function (name) {
    input.addEventListener(name, function () { setTimeout(update, 0); });
  });
  update();
}());
