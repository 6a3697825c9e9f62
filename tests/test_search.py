"""Search that answers professionals, on the real FINESS file (43 and 63, 08/01/2021)
and the real France Services list: query understanding (« ehpad brioude »), ranking,
zero-result help, open-now filters, the API's and the CLI's ``place``."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from directory.fhir import FhirReader
from directory.france_services import read_france_services
from directory.search import SearchQuery, search
from directory.store import StreamResult, sync_categories, upsert
from directory.taxonomy import load_categories
from geo.db import session_scope


def import_real_directory(engine: Engine, shared_data: Path) -> None:
    """Empty the directory, then import the real FINESS (FHIR) file and France Services."""
    categories = load_categories()
    reader = FhirReader(shared_data / "finess" / "finess-20210108-fhir-43-63.ndjson",
                        known_categories=frozenset(c.code for c in categories))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM structures"))
    with session_scope(engine) as session:
        sync_categories(session, categories)
        upsert(session, StreamResult(reader.records(), reader.rejections, reader.metadata),
               source_label="fhir", close_missing=True)
        upsert(session, read_france_services(
            shared_data / "inclusion" / "france-services-20221201-43-63.csv"),
            source_label="fs", close_missing=True)


@pytest.fixture(scope="module")
def directory_db(communes_loaded: Engine, shared_data: Path) -> Engine:
    import_real_directory(communes_loaded, shared_data)
    return communes_loaded


def _run(engine: Engine, **kwargs) -> dict:
    with engine.connect() as conn:
        return search(conn, SearchQuery(**kwargs))


# ---- the four visible examples ---------------------------------------------------------

@pytest.mark.parametrize(("query", "place", "text_", "expected", "category"), [
    # EHPAD « Bel Horizon » and « Maison Nazareth », Le Puy-en-Velay
    ("maison de retraite le puy", "43157", "maison de retraite", {"430007617", "430002568"},
     {"500", "502"}),
    # CMP Adultes Clermont Gare, CMP Croix de Neyrat
    ("cmp clermont", "63113", "cmp", {"630013910", "630010643"}, {"156"}),
    # Hôpital de jour adultes and enfants of the CHS Sainte-Marie, in Brioude
    ("hopital de jour brioude", "43040", "hopital de jour", {"430007088", "430008920"},
     {"292"}),
    # EHPAD of the CH of Yssingeaux, despite the missing « s »
    ("ehpad ysingeaux", "43268", "ehpad", {"430006353"}, {"500"}),
])
def test_visible_examples_top_5_around_the_named_commune(
        directory_db: Engine, query: str, place: str, text_: str, expected: set[str],
        category: set[str]) -> None:
    result = _run(directory_db, q=query, per_page=5)
    assert result["place"]["code"] == place and result["place"]["source"] == "query"
    assert result["text"] == text_
    top = [f["properties"] for f in result["features"]]
    assert expected <= {p["finess_et"] for p in top}, [p["name"] for p in top]
    assert all(p["category_code"] in category for p in top), [p["name"] for p in top]
    distances = [p["distance_km"] for p in top]
    assert distances == sorted(distances)               # nearest first
    assert all(d <= result["radius_km"] for d in distances)
    assert top[0]["commune_code"] == place


def test_place_label_is_french(directory_db: Engine) -> None:
    assert _run(directory_db, q="ehpad brioude")["place"]["around"] == \
        "autour de Brioude (43040)"
    assert _run(directory_db, q="ehpad ysingeaux")["place"]["around"] == \
        "autour d'Yssingeaux (43268)"
    assert _run(directory_db, q="maison de retraite le puy")["place"]["around"] == \
        "autour du Puy-en-Velay (43157)"


def test_undo_reads_the_commune_as_a_word(directory_db: Engine) -> None:
    understood = _run(directory_db, q="ehpad brioude", per_page=50)
    plain = _run(directory_db, q="ehpad brioude", understand=False, per_page=50)
    assert plain["place"] is None and plain["text"] == "ehpad brioude"
    # As words: only the EHPAD whose text says Brioude (in Brioude); around: 6 nearby.
    assert 0 < plain["total"] < understood["total"]
    assert {f["properties"]["commune_code"] for f in plain["features"]} == {"43040"}


def test_explicit_commune_wins_over_the_query(directory_db: Engine) -> None:
    result = _run(directory_db, q="ehpad", commune="43157", radius_km=10)
    assert result["place"]["code"] == "43157" and result["place"]["source"] == "commune"
    result = _run(directory_db, q="ehpad brioude", commune="43157", radius_km=100)
    assert result["place"]["code"] == "43157" and result["text"] == "ehpad brioude"


def test_typo_in_a_name_of_several_words(directory_db: Engine) -> None:
    result = _run(directory_db, q="ehpad la chaise dieux")
    assert result["place"]["code"] == "43048" and result["text"] == "ehpad"
    assert result["features"][0]["properties"]["commune_code"] == "43048"


def test_a_word_of_the_index_is_not_a_typo_of_a_commune(directory_db: Engine) -> None:
    """« castel » is one letter from Chastel, but it is the name of a pharmacy."""
    result = _run(directory_db, q="pharmacie castel")
    assert result["place"] is None
    assert "Pharmacie Castel" in {f["properties"]["name"] for f in result["features"]}


def test_overlong_query_is_refused_in_french(directory_db: Engine) -> None:
    from geo.errors import MaillageError

    with pytest.raises(MaillageError, match="Recherche trop longue"):
        _run(directory_db, q="ehpad " * 100)


def test_vocabulary_alone_is_not_a_place(directory_db: Engine) -> None:
    result = _run(directory_db, q="centre de sante")
    assert result["place"] is None and result["total"] > 0


# ---- ranking ---------------------------------------------------------------------------

def test_without_place_the_users_departement_comes_first(directory_db: Engine) -> None:
    anywhere = _run(directory_db, q="hopital", per_page=10)
    in_43 = _run(directory_db, q="hopital", prefer_dept="43", per_page=10)
    in_63 = _run(directory_db, q="hopital", prefer_dept="63", per_page=10)
    assert anywhere["total"] == in_43["total"] == in_63["total"]
    assert all(f["properties"]["commune_code"].startswith("43") for f in in_43["features"])
    assert all(f["properties"]["commune_code"].startswith("63") for f in in_63["features"])


def test_exact_words_before_typo_matches(directory_db: Engine) -> None:
    """« ehpad » also matches « EHPA » records by similarity: they come after the EHPAD."""
    result = _run(directory_db, q="ehpad brioude", radius_km=30, per_page=100)
    codes = [f["properties"]["category_code"] for f in result["features"]]
    assert "500" in codes and "502" in codes
    assert codes.index("502") > max(i for i, c in enumerate(codes) if c == "500")


def test_stop_words_do_not_filter(directory_db: Engine) -> None:
    with_de = _run(directory_db, q="hopital de jour", per_page=100)
    without = _run(directory_db, q="hopital jour", per_page=100)
    assert with_de["total"] == without["total"] > 0


# ---- zero results ----------------------------------------------------------------------

def test_zero_results_say_why_and_offer_a_way_out(directory_db: Engine) -> None:
    result = _run(directory_db, q="dentiste brioude", radius_km=5)
    assert result["total"] == 0
    help_ = result["help"]
    assert help_["reason"] == ("Aucune ressource ne correspond à « dentiste » autour de "
                               "Brioude (43040) dans un rayon de 5 km.")
    widen = help_["suggestions"][0]
    assert widen["params"]["radius_km"] == 30 and "le plus proche est à" in widen["label"]
    assert _run(directory_db, q="dentiste brioude", radius_km=30)["total"] > 0
    assert any(s["params"] == {"understand": False} for s in help_["suggestions"])
    assert help_["closest"] and "Dentaire" in help_["closest"][0]["name"]


def test_did_you_mean_keeps_the_place_and_finds_something(directory_db: Engine) -> None:
    result = _run(directory_db, q="orthophonie brioude")
    assert result["total"] == 0
    suggestion = result["help"]["did_you_mean"]
    assert suggestion and suggestion.endswith(" brioude") and suggestion != "orthophonie brioude"
    assert _run(directory_db, q=suggestion, understand=False, radius_km=None)["total"] > 0 or \
        _run(directory_db, q=suggestion.rsplit(" ", 1)[0])["total"] > 0


def test_zero_results_offer_to_drop_a_filter(directory_db: Engine) -> None:
    result = _run(directory_db, q="ehpad brioude", sector="social")
    assert result["total"] == 0
    drop = [s for s in result["help"]["suggestions"] if s["params"] == {"sector": None}]
    assert drop and drop[0]["total"] == _run(directory_db, q="ehpad brioude")["total"]
    assert drop[0]["label"].startswith("Retirer le filtre secteur (")
    assert "avec 1 filtre" in result["help"]["reason"]


# ---- open now / open on a day ----------------------------------------------------------

def test_open_filters_follow_hours_holidays_and_closures(directory_db: Engine) -> None:
    with directory_db.begin() as conn:
        sid, hours = conn.execute(text(
            "SELECT id, opening_hours FROM structures WHERE source = 'france-services' "
            "AND source_id = '255'")).one()
    assert hours.startswith("Mo 09:00-12:00")
    monday_10 = datetime(2026, 11, 23, 10, 0)     # a Monday
    monday_13 = datetime(2026, 11, 23, 13, 0)
    easter_monday = datetime(2026, 4, 6, 10, 0)   # lundi de Pâques
    base = {"q": "france services", "per_page": 100}

    def ids(**kwargs) -> set[int]:
        return {f["properties"]["id"] for f in _run(directory_db, **base, **kwargs)["features"]}

    everyone = ids()
    assert sid in ids(open_at=monday_10) and sid not in ids(open_at=monday_13)
    answer = _run(directory_db, **base)["features"]
    assert {f["properties"]["open_now"] for f in answer} <= {True, False, None}
    assert any(f["properties"]["open_now"] is not None for f in answer)
    assert sid in ids(open_on=date(2026, 11, 24)) and sid not in ids(open_on=date(2026, 11, 29))
    # Without « PH » in its hours, a holiday is a normal day (OSM); with « PH off », closed.
    assert sid in ids(open_at=easter_monday)
    with directory_db.begin() as conn:
        conn.execute(text("UPDATE structures SET opening_hours = opening_hours || '; PH off' "
                          "WHERE id = :i"), {"i": sid})
    try:
        assert sid not in ids(open_at=easter_monday) and sid in ids(open_at=monday_10)
        # A temporary closure wins over the hours, on its days only.
        with directory_db.begin() as conn:
            conn.execute(text("UPDATE structures SET closed_from = '2026-11-20', "
                              "closed_until = '2026-11-23' WHERE id = :i"), {"i": sid})
        assert sid not in ids(open_at=monday_10)
        assert sid in ids(open_on=date(2026, 11, 24))
    finally:
        with directory_db.begin() as conn:
            conn.execute(text("UPDATE structures SET opening_hours = :h, closed_from = NULL, "
                              "closed_until = NULL WHERE id = :i"), {"h": hours, "i": sid})
    # Records without hours are neither open nor closed: never in an open filter.
    with directory_db.connect() as conn:
        no_hours = {r[0] for r in conn.execute(text(
            "SELECT id FROM structures WHERE opening_hours IS NULL"))}
    assert no_hours and not (ids(open_at=monday_10) & no_hours)
    assert ids(open_at=monday_10) < everyone


# ---- API and CLI -----------------------------------------------------------------------

def test_api_returns_place_and_accepts_the_new_parameters(directory_db: Engine,
                                                          db_url: str) -> None:
    from web.app import create_app

    client = create_app(database_url=db_url, testing=True).test_client()
    import jsonschema

    body = client.get("/api/v1/search?q=cmp+clermont").get_json()
    assert body["place"]["code"] == "63113" and body["text"] == "cmp"
    spec = client.get("/api/v1/openapi.json").get_json()
    jsonschema.validate(body, spec["components"]["schemas"]["Resultats"])
    body = client.get("/api/v1/search?q=cmp+clermont&understand=false").get_json()
    assert body["place"] is None
    assert client.get("/api/v1/search?q=hopital&prefer_dept=43").get_json()["features"][0][
        "properties"]["commune_code"].startswith("43")
    assert client.get("/api/v1/search?q=x&open_on=demain").status_code == 400
    assert client.get("/api/v1/search?q=x&understand=peut-etre").status_code == 400
    assert client.get("/api/v1/search?q=x&prefer_dept=4'3").status_code == 400
    assert client.get("/api/v1/search?q=ehpad&open_now=true").status_code == 200
    resolved = client.get("/api/v1/communes/resolve?q=St+Paulien").get_json()
    assert resolved["commune"]["code"] == "43216"
    several = client.get("/api/v1/communes/resolve?q=saint").get_json()
    assert several["commune"] is None and len(several["choices"]) > 1
    none = client.get("/api/v1/communes/resolve?q=zzzz")
    assert none.status_code == 404 and "zzzz" in none.get_json()["erreur"]
    spec = client.get("/api/v1/openapi.json").get_json()
    names = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {"understand", "prefer_dept", "open_now", "open_on"} <= names
    assert "place" in spec["components"]["schemas"]["Resultats"]["properties"]
    assert "/api/v1/communes/resolve" in spec["paths"]


def test_cli_json_has_place(directory_db: Engine, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    from geo.db import get_engine
    from maillage_cli.main import main

    monkeypatch.setenv("DATABASE_URL", directory_db.url.render_as_string(hide_password=False))
    get_engine.cache_clear()
    try:
        assert main(["directory", "search", "ehpad ysingeaux", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["place"]["code"] == "43268" and data["place"]["name"] == "Yssingeaux"
        assert data["features"][0]["properties"]["finess_et"] == "430006353"
        assert main(["directory", "search", "hopital", "--json", "--prefer-dept", "43"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["place"] is None
        assert data["features"][0]["properties"]["commune_code"].startswith("43")
        assert main(["directory", "search", "ehpad brioude"]) == 0
        out = capsys.readouterr().out
        assert "Recherche « ehpad » autour de Brioude (43040)" in out
        assert main(["directory", "search", "dentiste brioude", "--radius", "5"]) == 0
        assert "Élargir le rayon à 30 km" in capsys.readouterr().out
    finally:
        get_engine.cache_clear()


# ---- two-phase search: vocabulary, cap, stop words, synonyms ----------------------------

def test_vocabulary_follows_imports_and_edits(directory_db: Engine) -> None:
    """The trigger adds the words of every open record written; an import prunes the
    words no open record uses any more."""
    from directory.store import prune_search_words, reindex_structure

    with directory_db.connect() as conn:
        words = set(conn.execute(text("SELECT word FROM search_words")).scalars())
        texts = conn.execute(text(
            "SELECT search_text FROM structures WHERE status = 'open'")).scalars().all()
    assert words == {w for t in texts for w in t.split()}
    with session_scope(directory_db) as session:
        sid = session.execute(text("SELECT id FROM structures WHERE finess_et = '430006353'")
                              ).scalar_one()
        session.execute(text("UPDATE structures SET name = 'Résidence Zygomatique' "
                             "WHERE id = :i"), {"i": sid})
        reindex_structure(session, sid)
        assert session.execute(text(
            "SELECT count(*) FROM search_words WHERE word = 'zygomatique'")).scalar() == 1
        with session.connection().begin_nested() as inner:
            session.execute(text("UPDATE structures SET status = 'closed' WHERE id = :i"),
                            {"i": sid})
            assert prune_search_words(session) >= 1
            assert session.execute(text(
                "SELECT count(*) FROM search_words WHERE word = 'zygomatique'")).scalar() == 0
            inner.rollback()
        session.rollback()


def test_common_word_total_is_capped_and_says_so(directory_db: Engine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import directory.search as search_module
    from geo.errors import MaillageError

    full = _run(directory_db, q="centre", per_page=5)
    assert not full["total_capped"] and full["total"] > 60
    monkeypatch.setattr(search_module, "MAX_RANKED", 40)
    capped = _run(directory_db, q="centre", prefer_dept="43", per_page=10)
    assert capped["total_capped"] and capped["total"] == 40 and capped["pages"] == 4
    # The user's département is ranked whole, before the cap on the others.
    assert all(f["properties"]["commune_code"].startswith("43")
               for f in capped["features"])
    with pytest.raises(MaillageError, match="Seuls les 40 premiers résultats"):
        _run(directory_db, q="centre", page=5, per_page=10)
    assert search_module.results_fr(40, capped=True) == "plus de 40 résultats"


def test_a_stop_word_of_the_text_search_is_matched_as_a_word(directory_db: Engine) -> None:
    """« notre » is a stop word of PostgreSQL's French text search: it still filters."""
    result = _run(directory_db, q="notre dame", understand=False, per_page=100)
    assert result["total"] > 0
    with directory_db.connect() as conn:
        for feature in result["features"]:
            text_ = conn.execute(text("SELECT search_text FROM structures WHERE id = :i"),
                                 {"i": feature["properties"]["id"]}).scalar_one()
            assert " notre " in f" {text_} "


def test_everyday_synonym_finds_the_official_word(directory_db: Engine) -> None:
    result = _run(directory_db, q="dentiste", understand=False, per_page=100)
    assert result["total"] > 0
    assert all("dentaire" in f["properties"]["name"].lower() or
               "dentiste" in f["properties"]["name"].lower()
               for f in result["features"][:3])
